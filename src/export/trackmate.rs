//! TrackMate's XML file: spots, links and one track per lineage, for Fiji's TrackMate (Tinevez et al. 2017).
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use super::TrackedCells;
use crate::ctc::Calibration;

/// Version of TrackMate's file format the file claims (TrackMate 7).
const VERSION: &str = "7.11.1";

/// (feature, name, short name, dimension, integer) of the spot features written.
const SPOT_FEATURES: &[(&str, &str, &str, &str, bool)] = &[
    ("QUALITY", "Quality", "Quality", "QUALITY", false),
    ("POSITION_X", "X", "X", "POSITION", false),
    ("POSITION_Y", "Y", "Y", "POSITION", false),
    ("POSITION_Z", "Z", "Z", "POSITION", false),
    ("POSITION_T", "T", "T", "TIME", false),
    ("FRAME", "Frame", "Frame", "NONE", true),
    ("RADIUS", "Radius", "R", "LENGTH", false),
    ("VISIBILITY", "Visibility", "Visibility", "NONE", true),
    ("AREA", "Area", "Area", "AREA", false),
    ("CTC_LABEL", "CTC track label", "CTC label", "NONE", true),
];
/// TrackMate's spot intensity features (its `SpotIntensityMultiCAnalyzerFactory`):
/// (feature, name, short name), each followed by the channel's number.
const INTENSITY_FEATURES: [(&str, &str, &str); 6] = [
    ("MEAN_INTENSITY_CH", "Mean intensity ch", "Mean ch"),
    ("MEDIAN_INTENSITY_CH", "Median intensity ch", "Median ch"),
    ("MIN_INTENSITY_CH", "Min intensity ch", "Min ch"),
    ("MAX_INTENSITY_CH", "Max intensity ch", "Max ch"),
    ("TOTAL_INTENSITY_CH", "Sum intensity ch", "Sum ch"),
    ("STD_INTENSITY_CH", "Std intensity ch", "Std ch"),
];
const EDGE_FEATURES: &[(&str, &str, &str, &str, bool)] = &[
    ("SPOT_SOURCE_ID", "Source spot ID", "Source ID", "NONE", true),
    ("SPOT_TARGET_ID", "Target spot ID", "Target ID", "NONE", true),
    ("LINK_COST", "Edge cost", "Cost", "NONE", false),
    ("EDGE_TIME", "Edge time", "Edge T", "TIME", false),
];
const TRACK_FEATURES: &[(&str, &str, &str, &str, bool)] = &[
    ("TRACK_ID", "Track ID", "Track ID", "NONE", true),
    ("TRACK_INDEX", "Track index", "Index", "NONE", true),
    ("NUMBER_SPOTS", "Number of spots in track", "N spots", "NONE", true),
    ("NUMBER_GAPS", "Number of gaps", "N gaps", "NONE", true),
    ("LONGEST_GAP", "Longest gap", "Lgst gap", "NONE", true),
    ("NUMBER_SPLITS", "Number of split events", "N splits", "NONE", true),
    ("NUMBER_MERGES", "Number of merge events", "N merges", "NONE", true),
    ("TRACK_START", "Track start", "Track start", "TIME", false),
    ("TRACK_STOP", "Track stop", "Track stop", "TIME", false),
    ("TRACK_DURATION", "Track duration", "Duration", "TIME", false),
];

/// `s` with XML's five special characters escaped, for an attribute value.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn declare(w: &mut impl Write, tag: &str, features: &[(&str, &str, &str, &str, bool)], channels: &[usize]) -> std::io::Result<()> {
    writeln!(w, "      <{tag}>")?;
    for (f, name, short, dim, int) in features {
        writeln!(w, r#"        <Feature feature="{f}" name="{name}" shortname="{short}" dimension="{dim}" isint="{int}" />"#)?;
    }
    for c in channels {
        for (f, name, short) in INTENSITY_FEATURES {
            writeln!(w, r#"        <Feature feature="{f}{c}" name="{name}{c}" shortname="{short}{c}" dimension="INTENSITY" isint="false" />"#)?;
        }
    }
    writeln!(w, "      </{tag}>")
}

/// Writes `cells` as a TrackMate XML file, in pixels and frames (pixel size
/// and frame interval 1). Spot `i` of [`TrackedCells::spots`] has ID `i`, its
/// centroid as position, the radius of the disc of its area, quality 1 (the
/// CTC result gives none) and its CTC label as the feature `CTC_LABEL`.
/// Links are [`TrackedCells::links`] (cost −1, as TrackMate's manual links);
/// a TrackMate track is a connected set of links, so each lineage (a track
/// without a parent and its descendants) is one track, and a cell seen in a
/// single frame with no mother or daughters is a spot in no track, as in
/// TrackMate. Spots measured in raw frames carry TrackMate's own intensity
/// features for each channel (`MEAN_INTENSITY_CH2`, …, `STD_INTENSITY_CH2`).
/// `image`, if given, is the image TrackMate opens with it.
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::export::{trackmate, Spot, TrackedCells};
/// let spot = |t, label, x| Spot { t, label, x, y: 1.0, area: 3, intensity: vec![] };
/// let cells = TrackedCells {
///     width: 8, height: 4, first: 0, last: 1,
///     spots: vec![spot(0, 1, 1.0), spot(1, 2, 1.0), spot(1, 3, 5.0)],
///     tracks: vec![
///         TrackRecord::new(1, 0, 0, 0),
///         TrackRecord::new(2, 1, 1, 1),
///         TrackRecord::new(3, 1, 1, 1),
///     ],
///     channels: vec![],
/// };
/// let mut out = Vec::new();
/// trackmate::write_xml(&cells, None, &Default::default(), &mut out).unwrap();
/// let xml = String::from_utf8(out).unwrap();
/// assert!(xml.contains(r#"<AllSpots nspots="3">"#));
/// assert!(xml.contains(r#"NUMBER_SPLITS="1""#)); // one lineage, one division
/// assert_eq!(xml.matches("<Edge ").count(), 2);
/// ```
pub fn write_xml(cells: &TrackedCells, image: Option<&Path>, cal: &Calibration, w: &mut impl Write) -> std::io::Result<()> {
    // Positions, sizes and times in the image's units, as TrackMate places
    // spots by the calibration of the image it opens.
    let (px, dt) = (cal.pixel, cal.interval);
    let links = cells.links();
    let roots = cells.lineage_roots();
    // Links of each lineage, by its root's label.
    let mut lineages: BTreeMap<u32, Vec<(usize, usize)>> = BTreeMap::new();
    for &(a, b) in &links {
        lineages.entry(roots[&cells.spots[a].label]).or_default().push((a, b));
    }
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(w, r#"<TrackMate version="{VERSION}">"#)?;
    writeln!(w, "  <Log>Exported by cellstream {} from a Cell Tracking Challenge result.</Log>", env!("CARGO_PKG_VERSION"))?;
    writeln!(w, r#"  <Model spatialunits="{}" timeunits="{}">"#, escape(&cal.space_unit), escape(&cal.time_unit))?;
    writeln!(w, "    <FeatureDeclarations>")?;
    declare(w, "SpotFeatures", SPOT_FEATURES, &cells.channels)?;
    declare(w, "EdgeFeatures", EDGE_FEATURES, &[])?;
    declare(w, "TrackFeatures", TRACK_FEATURES, &[])?;
    writeln!(w, "    </FeatureDeclarations>")?;
    writeln!(w, r#"    <AllSpots nspots="{}">"#, cells.spots.len())?;
    let mut by_frame: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, s) in cells.spots.iter().enumerate() {
        by_frame.entry(s.t).or_default().push(i);
    }
    for (t, ids) in &by_frame {
        writeln!(w, r#"      <SpotsInFrame frame="{t}">"#)?;
        for &i in ids {
            let s = &cells.spots[i];
            let r = (s.area as f64 / std::f64::consts::PI).sqrt() * px;
            write!(
                w,
                r#"        <Spot ID="{i}" name="ID{i}" QUALITY="1.0" POSITION_X="{:?}" POSITION_Y="{:?}" POSITION_Z="0.0" POSITION_T="{:?}" FRAME="{t}" RADIUS="{r}" VISIBILITY="1" AREA="{:?}" CTC_LABEL="{}""#,
                s.x * px,
                s.y * px,
                *t as f64 * dt,
                s.area as f64 * px * px,
                s.label
            )?;
            for (c, v) in cells.channels.iter().zip(&s.intensity) {
                for ((f, _, _), value) in INTENSITY_FEATURES.iter().zip([v.mean, v.median, v.min, v.max, v.total, v.std]) {
                    write!(w, r#" {f}{c}="{value:?}""#)?;
                }
            }
            writeln!(w, " />")?;
        }
        writeln!(w, "      </SpotsInFrame>")?;
    }
    writeln!(w, "    </AllSpots>")?;
    writeln!(w, "    <AllTracks>")?;
    for (index, (root, edges)) in lineages.iter().enumerate() {
        let spots: BTreeSet<usize> = edges.iter().flat_map(|&(a, b)| [a, b]).collect();
        let frames = spots.iter().map(|&i| cells.spots[i].t);
        let (start, stop) = (frames.clone().min().unwrap_or(0), frames.max().unwrap_or(0));
        let gaps: Vec<usize> = edges.iter().map(|&(a, b)| cells.spots[b].t - cells.spots[a].t - 1).filter(|&g| g > 0).collect();
        let mut out_degree: BTreeMap<usize, usize> = BTreeMap::new();
        for &(a, _) in edges {
            *out_degree.entry(a).or_default() += 1;
        }
        let splits = out_degree.values().filter(|&&d| d > 1).count();
        writeln!(
            w,
            r#"      <Track name="Lineage_{root}" TRACK_ID="{index}" TRACK_INDEX="{index}" NUMBER_SPOTS="{}" NUMBER_GAPS="{}" LONGEST_GAP="{}" NUMBER_SPLITS="{splits}" NUMBER_MERGES="0" TRACK_START="{:?}" TRACK_STOP="{:?}" TRACK_DURATION="{:?}">"#,
            spots.len(),
            gaps.len(),
            gaps.iter().max().unwrap_or(&0),
            start as f64 * dt,
            stop as f64 * dt,
            (stop - start) as f64 * dt
        )?;
        for &(a, b) in edges {
            let time = (cells.spots[a].t + cells.spots[b].t) as f64 / 2.0 * dt;
            writeln!(w, r#"        <Edge SPOT_SOURCE_ID="{a}" SPOT_TARGET_ID="{b}" LINK_COST="-1.0" EDGE_TIME="{time:?}" />"#)?;
        }
        writeln!(w, "      </Track>")?;
    }
    writeln!(w, "    </AllTracks>")?;
    writeln!(w, "    <FilteredTracks>")?;
    for index in 0..lineages.len() {
        writeln!(w, r#"      <TrackID TRACK_ID="{index}" />"#)?;
    }
    writeln!(w, "    </FilteredTracks>")?;
    writeln!(w, "  </Model>")?;
    writeln!(w, "  <Settings>")?;
    let (folder, file) = match image {
        Some(p) => {
            // Absolute, whether or not the image is here to resolve links.
            let p = p.canonicalize().or_else(|_| std::path::absolute(p)).unwrap_or_else(|_| p.to_path_buf());
            let folder = p.parent().map(|d| format!("{}/", d.display())).unwrap_or_default();
            (folder, p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default())
        }
        None => (String::new(), String::new()),
    };
    let nframes = cells.last + 1;
    writeln!(
        w,
        r#"    <ImageData filename="{}" folder="{}" width="{}" height="{}" nslices="1" nframes="{nframes}" pixelwidth="{px:?}" pixelheight="{px:?}" voxeldepth="1.0" timeinterval="{dt:?}" />"#,
        escape(&file),
        escape(&folder),
        cells.width,
        cells.height
    )?;
    writeln!(
        w,
        r#"    <BasicSettings xstart="0" xend="{}" ystart="0" yend="{}" zstart="0" zend="0" tstart="{}" tend="{}" />"#,
        cells.width.saturating_sub(1),
        cells.height.saturating_sub(1),
        cells.first,
        cells.last
    )?;
    // TrackMate's manual detector needs a radius: the spots' mean.
    let mean_radius = px * cells.spots.iter().map(|s| (s.area as f64 / std::f64::consts::PI).sqrt()).sum::<f64>() / cells.spots.len().max(1) as f64;
    writeln!(w, r#"    <DetectorSettings DETECTOR_NAME="MANUAL_DETECTOR" RADIUS="{mean_radius:?}" />"#)?;
    writeln!(w, r#"    <InitialSpotFilter feature="QUALITY" value="0.0" isabove="true" />"#)?;
    writeln!(w, "    <SpotFilterCollection />")?;
    writeln!(w, r#"    <TrackerSettings TRACKER_NAME="MANUAL_TRACKER" />"#)?;
    writeln!(w, "    <TrackFilterCollection />")?;
    writeln!(w, "  </Settings>")?;
    writeln!(w, r#"  <GUIState state="ConfigureViews" />"#)?;
    writeln!(w, "</TrackMate>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_special_characters() {
        assert_eq!(escape(r#"a&b<c>"d'"#), "a&amp;b&lt;c&gt;&quot;d&apos;");
    }
}
