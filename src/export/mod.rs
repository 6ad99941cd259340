//! Exporters at the edge: a CTC result folder as a napari tracks table, a TrackMate XML file or a GEFF graph.
//!
//! Both read the same thing, [`TrackedCells`]: one spot (centroid, area
//! and, given the raw frames, its intensity in each channel asked for) per
//! labelled object of each mask, the CTC tracks they belong to, and the
//! links between spots (consecutive spots of a track, and a parent's last
//! spot to each daughter's first). [`napari`] writes the
//! table napari's tracks layer takes; [`trackmate`] writes the XML file
//! Fiji's TrackMate opens; [`geff`] writes the graph motile, ultrack and
//! trackastra exchange. `cellstream export` runs them.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;

use crate::ctc::{self, CtcError, RawFrames, ResultDir, TrackRecord};
use crate::measure::{measure_frame, measure_intensities, Intensity};

pub mod geff;
pub mod napari;
pub mod trackmate;

/// One labelled object of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Spot {
    /// Frame number.
    pub t: usize,
    /// The object's label in the mask: its CTC track.
    pub label: u32,
    /// Centroid column (x) and row (y), in pixels.
    pub x: f64,
    pub y: f64,
    /// Pixels.
    pub area: u64,
    /// Its intensity in each of [`TrackedCells::channels`], in that order
    /// (none when no raw frames were measured).
    pub intensity: Vec<Intensity>,
}

/// A CTC result read as spots and links.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedCells {
    /// Frame size in pixels.
    pub width: usize,
    pub height: usize,
    /// The first and last frame number.
    pub first: usize,
    pub last: usize,
    /// Every object of every frame, by frame, then label.
    pub spots: Vec<Spot>,
    /// The track file's lines, by label.
    pub tracks: Vec<TrackRecord>,
    /// The channels (from 1) of the raw frames each spot's intensity was
    /// measured in; none without raw frames.
    pub channels: Vec<usize>,
}

/// One channel of the raw frames to measure the spots' intensity in.
#[derive(Debug, Clone)]
pub struct IntensityChannel {
    /// The channel's number, counted from 1 (1 for grayscale frames).
    pub number: usize,
    /// The frames, opened to read that channel.
    pub frames: RawFrames,
}

impl TrackedCells {
    /// Reads the result folder `dir` (`maskTTT.tif` and `res_track.txt`), one
    /// mask at a time. Errors name the file: a label a mask holds that the
    /// track file does not list, or lists for other frames; a track no mask
    /// holds; a parent that is not a track or does not end before its
    /// daughter begins; masks of different sizes.
    pub fn read(dir: &Path) -> ctc::Result<TrackedCells> {
        TrackedCells::read_measuring(dir, &[])
    }

    /// [`TrackedCells::read`], measuring each spot's [`Intensity`] in each
    /// of `channels` as each mask is read. A raw frame missing for a mask,
    /// or of another size, is an error naming it.
    pub fn read_measuring(dir: &Path, channels: &[IntensityChannel]) -> ctc::Result<TrackedCells> {
        let result = ResultDir::open(dir)?;
        result.check_lineage()?;
        let (first, last) = result.masks.span().expect("ResultDir::open refuses a folder without masks");
        let mut spots = Vec::new();
        let mut size = None;
        let mut warned = false;
        for t in result.masks.times() {
            let mask = result.read_mask(t)?;
            let path = result.masks.path(t).expect("listed frame");
            let (h, w) = mask.dim();
            match size {
                None => size = Some((w, h)),
                Some((w0, h0)) if (w0, h0) != (w, h) => {
                    return Err(CtcError::new(path, format!("is {w}×{h} pixels; the first mask is {w0}×{h0}")));
                }
                Some(_) => {}
            }
            let mut intensities = Vec::with_capacity(channels.len());
            for c in channels {
                if !c.frames.has(t) {
                    return Err(CtcError::new(c.frames.frame_path(t), format!("has no frame {t}; the result has {}", path.display())));
                }
                let (frame, raw) = c.frames.read(t)?;
                if frame.dim() != mask.dim() {
                    let (fh, fw) = frame.dim();
                    return Err(CtcError::new(raw, format!("frame {t} is {fw}×{fh} pixels; the result's mask {} is {w}×{h}", path.display())));
                }
                let frame = frame.to_f32();
                let gaps = frame.iter().zip(mask.iter()).filter(|(v, l)| **l != 0 && !v.is_finite()).count();
                if gaps > 0 && !std::mem::replace(&mut warned, true) {
                    eprintln!("warning: {}: {gaps} pixels inside cells are NaN or infinite (no data); each cell's intensity is measured over its other pixels (here and in any later frame)", raw.display());
                }
                intensities.push(measure_intensities(&mask, &frame));
            }
            let (_, objects) = measure_frame(t, &mask);
            spots.extend(objects.into_iter().map(|o| {
                let intensity = intensities.iter().map(|by_label| by_label[&o.label]).collect();
                Spot { t, label: o.label, x: o.x, y: o.y, area: o.area, intensity }
            }));
        }
        let (width, height) = size.expect("at least one mask");
        let channels = channels.iter().map(|c| c.number).collect();
        let cells = TrackedCells { width, height, first, last, spots, tracks: result.tracks, channels };
        cells.check(&result.masks)?;
        Ok(cells)
    }

    /// That the spots and the track file agree (what `cellstream validate`
    /// checks in full, here only what the links need).
    fn check(&self, masks: &ctc::FrameFiles) -> ctc::Result<()> {
        let track_file = masks.dir.join("res_track.txt");
        let by_label: BTreeMap<u32, &TrackRecord> = self.tracks.iter().map(|r| (r.label, r)).collect();
        for s in &self.spots {
            let mask = || masks.path(s.t).expect("a spot's frame is listed").to_path_buf();
            match by_label.get(&s.label) {
                None => return Err(CtcError::new(mask(), format!("holds label {}, which res_track.txt does not list", s.label))),
                Some(r) if s.t < r.begin || s.t > r.end => {
                    return Err(CtcError::new(
                        mask(),
                        format!("holds label {} in frame {}, outside its track's frames {}–{} in res_track.txt", s.label, s.t, r.begin, r.end),
                    ));
                }
                Some(_) => {}
            }
        }
        let spots = self.track_spots();
        for r in &self.tracks {
            if !spots.contains_key(&r.label) {
                return Err(CtcError::new(&track_file, format!("lists track {} (frames {}–{}), which no mask holds", r.label, r.begin, r.end)));
            }
        }
        // Parents were checked as the result was opened (`ResultDir::check_lineage`).
        Ok(())
    }

    /// The indices into [`TrackedCells::spots`] of each track's spots, in
    /// time order, by label.
    pub fn track_spots(&self) -> BTreeMap<u32, Vec<usize>> {
        let mut out: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, s) in self.spots.iter().enumerate() {
            out.entry(s.label).or_default().push(i);
        }
        out
    }

    /// The links between spots, as (earlier, later) indices into
    /// [`TrackedCells::spots`]: each spot of a track to its next (across a
    /// gap if the track skips frames), and a parent's last spot to each
    /// daughter's first. Sorted.
    ///
    /// ```
    /// use cellstream::ctc::TrackRecord;
    /// use cellstream::export::{Spot, TrackedCells};
    /// let spot = |t, label| Spot { t, label, x: 0.0, y: 0.0, area: 1, intensity: vec![] };
    /// let cells = TrackedCells {
    ///     width: 4, height: 4, first: 0, last: 2,
    ///     // mother 1 in frames 0 and 1, daughters 2 and 3 in frame 2
    ///     spots: vec![spot(0, 1), spot(1, 1), spot(2, 2), spot(2, 3)],
    ///     tracks: vec![
    ///         TrackRecord::new(1, 0, 1, 0),
    ///         TrackRecord::new(2, 2, 2, 1),
    ///         TrackRecord::new(3, 2, 2, 1),
    ///     ],
    ///     channels: vec![],
    /// };
    /// assert_eq!(cells.links(), vec![(0, 1), (1, 2), (1, 3)]);
    /// ```
    pub fn links(&self) -> Vec<(usize, usize)> {
        let spots = self.track_spots();
        let mut out: Vec<(usize, usize)> = spots.values().flat_map(|v| v.windows(2).map(|w| (w[0], w[1]))).collect();
        for r in self.tracks.iter().filter(|r| r.parent != 0) {
            if let (Some(p), Some(d)) = (spots.get(&r.parent).and_then(|v| v.last()), spots.get(&r.label).and_then(|v| v.first())) {
                out.push((*p, *d));
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The lineage each track belongs to: the label of its first ancestor
    /// (its own label for a track without a parent), by label.
    pub fn lineage_roots(&self) -> BTreeMap<u32, u32> {
        let parent: BTreeMap<u32, u32> = self.tracks.iter().map(|r| (r.label, r.parent)).collect();
        let mut out = BTreeMap::new();
        for &label in parent.keys() {
            let mut root = label;
            // A cycle in the parents (an invalid file) stops after every track was seen once.
            for _ in 0..parent.len() {
                match parent.get(&root) {
                    Some(&p) if p != 0 && parent.contains_key(&p) => root = p,
                    _ => break,
                }
            }
            out.insert(label, root);
        }
        out
    }
}

/// One CTC track in its lineage: where it comes from and how it ends
/// ([`TrackedCells::lineage`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackLineage {
    pub label: u32,
    /// 0 for none.
    pub parent: u32,
    /// The lineage: the label of its first ancestor.
    pub root: u32,
    /// Divisions between the lineage's first track and this one (a single
    /// daughter, which continues her mother after a gap, is no division).
    pub generation: usize,
    pub first: usize,
    pub last: usize,
    /// Frames it is seen in (fewer than `last − first + 1` across gaps).
    pub frames_seen: usize,
    /// Tracks naming it as their parent.
    pub daughters: usize,
    /// Whether it was born by a division: its parent has two daughters or more.
    pub born_by_division: bool,
    /// Its cell cycle in frames, when it was born by a division and divides
    /// in view: from its first frame to its daughters' first (the
    /// inter-division time).
    pub cycle: Option<usize>,
}

impl TrackedCells {
    /// Every track's place in its lineage, by label: its generation, whether
    /// it was born by a division and divides, and its cell cycle.
    ///
    /// ```
    /// use cellstream::ctc::TrackRecord;
    /// use cellstream::export::{Spot, TrackedCells};
    /// let spot = |t, label| Spot { t, label, x: 0.0, y: 0.0, area: 1, intensity: vec![] };
    /// let cells = TrackedCells {
    ///     width: 4, height: 4, first: 0, last: 9,
    ///     // 1 divides into 2 and 3 at frame 2; 2 divides into 4 and 5 at frame 7.
    ///     spots: [(0, 1), (1, 1), (2, 2), (2, 3), (6, 2), (7, 4), (7, 5)].into_iter().map(|(t, l)| spot(t, l)).collect(),
    ///     tracks: vec![
    ///         TrackRecord::new(1, 0, 1, 0),
    ///         TrackRecord::new(2, 2, 6, 1),
    ///         TrackRecord::new(3, 2, 2, 1),
    ///         TrackRecord::new(4, 7, 7, 2),
    ///         TrackRecord::new(5, 7, 7, 2),
    ///     ],
    ///     channels: vec![],
    /// };
    /// let rows = cells.lineage();
    /// let two = &rows[1];
    /// assert_eq!((two.root, two.generation, two.frames_seen, two.daughters, two.born_by_division, two.cycle), (1, 1, 2, 2, true, Some(5)));
    /// assert_eq!((rows[0].cycle, rows[3].generation, rows[3].cycle), (None, 2, None)); // 1 was not seen born, 4 not seen dividing
    /// ```
    pub fn lineage(&self) -> Vec<TrackLineage> {
        let daughters = daughters_by_parent(&self.tracks);
        let divides = |label: u32| daughters.get(&label).is_some_and(|d| d.len() >= 2);
        let parent: BTreeMap<u32, u32> = self.tracks.iter().map(|r| (r.label, r.parent)).collect();
        let seen = self.track_spots();
        let cycles = whole_cycles(&self.tracks);
        self.tracks
            .iter()
            .map(|r| {
                // Up the parents to the lineage's root, as `lineage_roots`
                // walks, counting the divisions passed; stopping after every
                // track was passed once (a cycle in an invalid file).
                let mut generation = 0;
                let mut at = r.label;
                for _ in 0..parent.len() {
                    match parent.get(&at) {
                        Some(&p) if p != 0 && parent.contains_key(&p) => {
                            generation += usize::from(divides(p));
                            at = p;
                        }
                        _ => break,
                    }
                }
                let born_by_division = r.parent != 0 && divides(r.parent);
                TrackLineage {
                    label: r.label,
                    parent: r.parent,
                    root: at,
                    generation,
                    first: r.begin,
                    last: r.end,
                    frames_seen: seen.get(&r.label).map_or(0, Vec::len),
                    daughters: daughters.get(&r.label).map_or(0, Vec::len),
                    born_by_division,
                    cycle: cycles.get(&r.label).copied(),
                }
            })
            .collect()
    }
}

/// The whole cell cycles of a CTC track file, by label: for each track born
/// by a division (its parent has two daughters or more) that divides in
/// view, the frames from its first to its daughters' first (the
/// inter-division time).
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// // 1 divides into 2 and 3; 2 into 4 and 5 five frames after her birth; 3 continues alone as 6.
/// let tracks = [(1, 0, 1, 0), (2, 2, 6, 1), (3, 2, 3, 1), (4, 7, 9, 2), (5, 7, 9, 2), (6, 5, 9, 3)];
/// let tracks: Vec<TrackRecord> = tracks.iter().map(|&(l, b, e, p)| TrackRecord::new(l, b, e, p)).collect();
/// assert_eq!(cellstream::export::whole_cycles(&tracks), [(2, 5)].into());
/// ```
pub fn whole_cycles(tracks: &[TrackRecord]) -> BTreeMap<u32, usize> {
    let daughters = daughters_by_parent(tracks);
    let divides = |label: u32| daughters.get(&label).filter(|d| d.len() >= 2);
    tracks
        .iter()
        .filter(|r| r.parent != 0 && divides(r.parent).is_some())
        .filter_map(|r| divides(r.label).and_then(|d| d.iter().map(|d| d.begin).min()).map(|b| (r.label, b.saturating_sub(r.begin))))
        .collect()
}

/// The tracks that name each track as their parent, by the parent's label.
fn daughters_by_parent(tracks: &[TrackRecord]) -> BTreeMap<u32, Vec<&TrackRecord>> {
    let mut daughters: BTreeMap<u32, Vec<&TrackRecord>> = BTreeMap::new();
    for r in tracks.iter().filter(|r| r.parent != 0) {
        daughters.entry(r.parent).or_default().push(r);
    }
    daughters
}

/// Writes [`TrackedCells::lineage`] as CSV, one row per track by label:
/// `track_id,parent_track_id,lineage_id,generation,first_frame,last_frame,frames_seen,daughters,born_by_division,cycle_frames`
/// (`cycle_frames` empty where the cycle is not seen whole).
pub fn write_lineage_csv(rows: &[TrackLineage], w: &mut impl std::io::Write) -> std::io::Result<()> {
    writeln!(w, "track_id,parent_track_id,lineage_id,generation,first_frame,last_frame,frames_seen,daughters,born_by_division,cycle_frames")?;
    for r in rows {
        let cycle = r.cycle.map(|c| c.to_string()).unwrap_or_default();
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{cycle}",
            r.label, r.parent, r.root, r.generation, r.first, r.last, r.frames_seen, r.daughters, r.born_by_division
        )?;
    }
    Ok(())
}

/// `cellstream export`: a CTC result folder as a napari tracks table, a TrackMate XML file, a GEFF graph, a lineage table.
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("calibrated").args(["trackmate", "geff"]).multiple(true))]
pub struct ExportArgs {
    /// The result folder (maskTTT.tif and res_track.txt), e.g. 01_RES.
    pub res: PathBuf,
    /// Write napari's tracks table here (CSV: track_id, t, y, x, area, parent_track_id).
    #[arg(long, value_name = "FILE.csv")]
    pub napari: Option<PathBuf>,
    /// Write a TrackMate XML file here (Fiji: Plugins › Tracking › Load a TrackMate file).
    #[arg(long, value_name = "FILE.xml")]
    pub trackmate: Option<PathBuf>,
    /// Write a GEFF graph here (a Zarr group, e.g. tracks.zarr/tracks.geff),
    /// as motile, ultrack and trackastra read it: one node per cell and frame, one edge per link.
    #[arg(long, value_name = "DIR.geff")]
    pub geff: Option<PathBuf>,
    /// Write the result's masks into the GEFF too (the array `masks`, t × y × x,
    /// compressed), named as the labels whose values are the nodes' track_id.
    #[arg(long, requires = "geff")]
    pub geff_masks: bool,
    /// Write one row per track here (CSV): its parent, lineage, generation,
    /// frames, daughters and cell cycle (frames from its birth by a division
    /// to its own, where both are seen).
    #[arg(long, value_name = "FILE.csv")]
    pub lineage: Option<PathBuf>,
    /// The image TrackMate should open with the tracks (e.g. a stack of the
    /// raw frames), recorded in the XML. Where it exists, its calibration
    /// (ImageJ's or OME-TIFF's pixel size and frame interval, an OME-Zarr's
    /// scale) gives the XML's units, as TrackMate places spots by the
    /// image's calibration, and the GEFF's axes their scale.
    #[arg(long, value_name = "IMAGE.tif", requires = "calibrated")]
    pub image: Option<PathBuf>,
    /// A pixel's size for the TrackMate XML, with its unit (`0.65um`): positions,
    /// radii and areas in that unit instead of pixels (overrides the image's);
    /// the scale of the GEFF's space axes.
    #[arg(long, value_name = "SIZE", requires = "calibrated", value_parser = |s: &str| ctc::parse_quantity(s, ctc::Quantity::Length))]
    pub pixel_size: Option<(f64, String)>,
    /// The time between frames for the TrackMate XML, with its unit (`5min`,
    /// `300s`): times in that unit instead of frames (overrides the image's);
    /// the scale of the GEFF's time axis.
    #[arg(long, value_name = "TIME", requires = "calibrated", value_parser = |s: &str| ctc::parse_quantity(s, ctc::Quantity::Time))]
    pub frame_interval: Option<(f64, String)>,
    /// Measure each cell's intensity in these raw frames (a sequence folder,
    /// a stack, a file-name pattern, an OME-Zarr image or an NDTiff
    /// acquisition, as `track` takes them): mean, median, min, max, total and
    /// standard deviation, as TrackMate's spot intensity features.
    #[arg(long, value_name = "SEQ_DIR|STACK.tif")]
    pub raw: Option<PathBuf>,
    /// The channels of the raw frames to measure, counted from 1 or by name
    /// (as `track --channel`); repeat for several (`--channel 1 --channel
    /// 2`). Default: the frames' only channel.
    #[arg(long = "channel", value_name = "N|NAME", requires = "raw", value_parser = crate::cli::channel_arg)]
    pub channels: Vec<ctc::ChannelArg>,
    #[command(flatten)]
    pub planes: crate::cli::RawPlaneArgs,
}

/// Runs `cellstream export`.
pub fn run(args: ExportArgs) -> anyhow::Result<std::process::ExitCode> {
    if args.napari.is_none() && args.trackmate.is_none() && args.geff.is_none() && args.lineage.is_none() {
        bail!("nothing to export: give --napari FILE.csv, --trackmate FILE.xml, --geff DIR.geff, --lineage FILE.csv or several");
    }
    // Every output checked before any is written, so that a bad one is
    // named with nothing written: none inside what export reads (the result,
    // the raw frames, --image), none named twice, each writable.
    let outputs: Vec<&Path> = args.napari.iter().chain(&args.trackmate).chain(&args.geff).chain(&args.lineage).map(PathBuf::as_path).collect();
    let inputs: Vec<&Path> = [Some(&args.res), args.raw.as_ref(), args.image.as_ref()].into_iter().flatten().map(PathBuf::as_path).collect();
    ctc::check_outputs_apart(&outputs, &inputs)?;
    for out in args.napari.iter().chain(&args.trackmate).chain(&args.lineage) {
        ctc::check_output_file(out)?;
    }
    if let Some(g) = &args.geff {
        geff::check_dest(g)?;
    }
    let channels: Vec<IntensityChannel> = match &args.raw {
        None => vec![],
        Some(raw) if args.channels.is_empty() => vec![IntensityChannel { number: 1, frames: RawFrames::open_planes(raw, args.planes.planes(&args.res, raw, None)?)? }],
        Some(raw) => {
            let mut seen = std::collections::BTreeSet::new();
            let mut out = Vec::new();
            for c in &args.channels {
                let c = c.number_in(raw)?;
                if !seen.insert(c) {
                    bail!("--channel {c} is given twice");
                }
                out.push(IntensityChannel { number: c, frames: RawFrames::open_planes(raw, args.planes.planes(&args.res, raw, Some(c))?)? });
            }
            out
        }
    };
    let cells = TrackedCells::read_measuring(&args.res, &channels).with_context(|| format!("cannot export {}", args.res.display()))?;
    let cal = calibration(&args)?;
    let units = if cal == ctc::Calibration::default() { String::new() } else { format!("; 1 pixel = {} {}, 1 frame = {} {}", cal.pixel, cal.space_unit, cal.interval, cal.time_unit) };
    // Every file staged before any is put in place, and the GEFF written
    // between: one that cannot be written leaves none of them written.
    let mut staged = Vec::new();
    let mut said = Vec::new();
    if let Some(p) = &args.napari {
        staged.push(ctc::stage_file(p, |w| napari::write_tracks_csv(&cells, w))?);
        said.push(format!("wrote {} ({} spots of {} tracks)", p.display(), cells.spots.len(), cells.tracks.len()));
    }
    if let Some(p) = &args.trackmate {
        staged.push(ctc::stage_file(p, |w| trackmate::write_xml(&cells, args.image.as_deref(), &cal, w))?);
        let lineages = cells.lineage_roots().values().collect::<std::collections::BTreeSet<_>>().len();
        said.push(format!("wrote {} ({} spots, {} links, {} TrackMate tracks{units})", p.display(), cells.spots.len(), cells.links().len(), lineages));
    }
    if let Some(p) = &args.lineage {
        let rows = cells.lineage();
        staged.push(ctc::stage_file(p, |w| write_lineage_csv(&rows, w))?);
        let lineages = rows.iter().map(|r| r.root).collect::<std::collections::BTreeSet<_>>().len();
        let mut cycles: Vec<u64> = rows.iter().filter_map(|r| r.cycle).map(|c| c as u64).collect();
        cycles.sort_unstable();
        let divisions = rows.iter().filter(|r| r.daughters >= 2).count();
        let median = if cycles.is_empty() { String::new() } else { format!(", median {} frames", crate::measure::median_of_sorted(&cycles)) };
        said.push(format!("wrote {} ({} tracks in {lineages} lineages, {divisions} divisions; {} whole cell cycles{median})", p.display(), rows.len(), cycles.len()));
    }
    if let Some(p) = &args.geff {
        geff::write_geff(&cells, &cal, args.geff_masks.then_some(args.res.as_path()), p)?;
        let with = if args.geff_masks { ", the masks" } else { "" };
        said.push(format!("wrote {} ({} nodes, {} edges{with}{units})", p.display(), cells.spots.len(), cells.links().len()));
    }
    for f in staged {
        f.commit()?;
    }
    for line in said {
        eprintln!("{line}");
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// The pixel size and frame interval of the exports: `--pixel-size` and
/// `--frame-interval`, else what `--image` records, else pixels and frames.
fn calibration(args: &ExportArgs) -> anyhow::Result<ctc::Calibration> {
    let (space, time) = match &args.image {
        Some(image) if image.is_file() => ctc::read_calibration(image)?,
        Some(image) if ctc::is_zarr(image) => ctc::zarr_calibration(image)?,
        Some(image) if image.exists() => {
            eprintln!("note: {} records no calibration cellstream reads (a TIFF's ImageJ or OME calibration, an OME-Zarr's scale); give --pixel-size and --frame-interval", image.display());
            (None, None)
        }
        Some(image) => {
            eprintln!("note: {} does not exist here; the export names it, without its calibration", image.display());
            (None, None)
        }
        None => (None, None),
    };
    let mut cal = ctc::Calibration::default();
    if let Some((pixel, unit)) = args.pixel_size.clone().or(space) {
        (cal.pixel, cal.space_unit) = (pixel, unit);
    }
    if let Some((interval, unit)) = args.frame_interval.clone().or(time) {
        (cal.interval, cal.time_unit) = (interval, unit);
    }
    Ok(cal)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single daughter continues her mother after a gap: no division, no
    /// new generation, and her own division ends no cycle seen whole.
    #[test]
    fn a_single_daughter_is_no_division() {
        let spot = |t, label| Spot { t, label, x: 0.0, y: 0.0, area: 1, intensity: vec![] };
        let cells = TrackedCells {
            width: 4,
            height: 4,
            first: 0,
            last: 6,
            // 1 (frames 0–1) continues as 2 after a gap (frames 3–4), which divides into 3 and 4.
            spots: [(0, 1), (1, 1), (3, 2), (4, 2), (5, 3), (5, 4)].into_iter().map(|(t, l)| spot(t, l)).collect(),
            tracks: vec![TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 3, 4, 1), TrackRecord::new(3, 5, 5, 2), TrackRecord::new(4, 5, 5, 2)],
            channels: vec![],
        };
        let rows = cells.lineage();
        let summary: Vec<(usize, bool, usize, Option<usize>)> = rows.iter().map(|r| (r.generation, r.born_by_division, r.daughters, r.cycle)).collect();
        assert_eq!(summary, vec![(0, false, 1, None), (0, false, 2, None), (1, true, 0, None), (1, true, 0, None)]);
        assert!(rows.iter().all(|r| r.root == 1));
        let mut out = Vec::new();
        write_lineage_csv(&rows, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().nth(2), Some("2,1,1,0,3,4,2,2,false,"));
    }
}
