//! The `track` command's options: the segmenter's, the model's and the post-processing's, and which belong to which segmenter.
use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgGroup, Args, ValueEnum};

use crate::ctc;
use crate::link::args::LinkArgs;
use crate::model::{DeviceChoice, InferOptions, Precision, Tiles};
use crate::post::{MergeSplit, PostParams, SeedMode};
use crate::run_record::RunRecord;
use crate::segment::{model_post_params, ClassicalParams, ModelSource, Polarity};

/// Where instances come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SegmenterKind {
    /// The ConvLSTM-UNet (`--model`, default the built-in model), its
    /// probabilities split into cells by a seeded watershed.
    Model,
    /// Background correction, threshold and distance watershed; needs no weights.
    Classical,
}

/// The flags that only a segmenter reads; `track --masks` refuses them
/// rather than ignore them.
const SEGMENTER_ONLY: [&str; 22] = [
    "channel", "project", "slices", "segmenter", "model", "device", "tiles", "overlap", "window", "precision", "seed_threshold", "foreground_threshold",
    "tta", "scale", "invert", "polarity", "background_sigma", "closing_radius", "min_area", "min_distance", "min_confidence",
    "merge_fragments",
];

/// `cellstream track`: what to track, where to write it, how to segment and link.
#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("input").required(true).args(["sequence", "masks"])))]
pub struct TrackArgs {
    /// A raw CTC sequence folder (NN/ holding tTTT.tif) to segment and track,
    /// or one multi-page TIFF whose pages are the frames (an ImageJ stack),
    /// or a CTC dataset folder: each sequence NN/ in it, into NN_RES beside it,
    /// or the frames' file names as a pattern, the time point written {t} and
    /// any other varying part * ('pos0/img_{t}_DAPI_000.tif', one file a plane
    /// as Micro-Manager writes them), or an OME-Zarr image (image.zarr, NGFF
    /// 0.4 or 0.5), or a Micro-Manager 2 NDTiff acquisition (a folder holding
    /// NDTiff.index).
    #[arg(value_name = "SEQUENCE|STACK.tif")]
    pub sequence: Option<PathBuf>,
    /// Link the label masks in this folder instead (Cellpose, StarDist,
    /// ilastik exports, CTC masks): every TIFF, in the order of the number
    /// at the end of its name, or the files a pattern names
    /// ('masks/img_{t}_DAPI_000_cp_masks.tif'); or one label stack TIFF, page t
    /// the mask of frame t; or an OME-Zarr label image (image.zarr/labels/NAME).
    /// Labels need not agree between frames.
    #[arg(long, value_name = "DIR|STACK.tif", conflicts_with_all = SEGMENTER_ONLY)]
    pub masks: Option<PathBuf>,
    /// The result folder (maskTTT.tif + res_track.txt); default NN_RES beside the sequence.
    #[arg(long, value_name = "RES")]
    pub out: Option<PathBuf>,
    /// Only these time points, `A-B` (`A-` from A on, `A` frame A alone): the frames, or
    /// masks, before and after are not read. The result keeps the frames'
    /// own numbers (maskTTT.tif from A on), and its tracks begin at A at the
    /// earliest; `evaluate --frames` scores the same span. The network starts
    /// from zero state at A.
    #[arg(long, value_name = "A-B")]
    pub frames: Option<ctc::FrameRange>,
    /// The channel to segment and track, counted from 1 as Fiji counts them:
    /// of a hyperstack of channels over time (ImageJ or OME), of RGB or
    /// multi-band frames, or of frame files that hold one page a channel;
    /// or by the name an NDTiff acquisition, an OME-Zarr image or an
    /// OME-TIFF gives it (DAPI).
    #[arg(long, value_name = "N|NAME", value_parser = crate::cli::channel_arg)]
    pub channel: Option<ctc::ChannelArg>,
    /// Of a Micro-Manager NDTiff acquisition of several positions (the wells
    /// or fields of a plate), the one to track, as its index numbers it
    /// (Micro-Manager's Pos0 is 0); written into ACQ_PosN_RES by default.
    /// Without it, every position is tracked, one after another, each into
    /// ACQ_PosN_RES beside the acquisition.
    #[arg(long, value_name = "N", conflicts_with = "masks", value_parser = crate::cli::position_number)]
    pub position: Option<i64>,
    /// Track a time-lapse of z-stacks in 2D: each time point's z slices
    /// projected into one frame, `max` (each pixel's brightest slice, as
    /// Fiji's Max Intensity) or `mean`; of an ImageJ or OME hyperstack of z
    /// slices over time, or of frame files whose pages are z slices (CTC's 3D
    /// sequences).
    #[arg(long, value_name = "max|mean", value_parser = crate::cli::projection)]
    pub project: Option<ctc::Projection>,
    /// With `--project`: only these z slices, counted from 1 as Fiji counts
    /// them (Fiji's start and stop slice): `2-4`, or `3` for one slice alone.
    #[arg(long, value_name = "A-B", requires = "project", value_parser = crate::cli::slice_range)]
    pub slices: Option<crate::ctc::SliceRange>,
    /// Where instances come from.
    #[arg(long, value_enum, default_value_t = SegmenterKind::Model)]
    pub segmenter: SegmenterKind,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Classical segmenter: whether cells are brighter or darker than the background, or either.
    #[arg(long, value_enum, default_value_t = Polarity::Bright)]
    pub polarity: Polarity,
    /// Classical segmenter: σ of the background estimate, in pixels (about two cell diameters).
    #[arg(long, value_name = "PX", default_value_t = ClassicalParams::default().background_sigma)]
    pub background_sigma: f32,
    #[command(flatten)]
    pub post: PostArgs,
    #[command(flatten)]
    pub link: LinkArgs,
    /// Write per-frame cell counts and areas to this CSV, and every object's
    /// centroid to FILE.objects.csv beside it.
    #[arg(long, value_name = "FILE.csv")]
    pub stats: Option<PathBuf>,
    /// Threads for post-processing (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Follow a folder still being written (a live acquisition): read each
    /// next frame as it appears, and end when none has come for SECONDS.
    #[arg(long, value_name = "SECONDS", conflicts_with = "masks", value_parser = follow_seconds)]
    pub follow: Option<f64>,
    /// The options typed on the command line (clap's ids), for refusing
    /// those of the segmenter not run; empty when built in code.
    #[arg(skip)]
    pub given: Vec<String>,
}

/// Options only the classical segmenter reads.
pub(super) const CLASSICAL_ONLY: &[&str] = &["polarity", "background_sigma", "min_distance"];
/// Options only the model segmenter reads.
pub(super) const MODEL_ONLY: &[&str] =
    &["model", "device", "tiles", "overlap", "window", "precision", "seed_threshold", "foreground_threshold", "tta", "save_probabilities"];

impl TrackArgs {
    /// The planes of each frame file to track: `--channel`, `--project` and `--slices`.
    /// `channel` is `--channel`'s number in the input, a name looked up
    /// among the channels it names ([`ctc::ChannelArg::number_in`]).
    pub(super) fn planes(&self, channel: Option<usize>) -> ctc::Planes {
        ctc::Planes { channel, project: self.project, slices: self.slices, position: self.position }
    }

    /// Notes `--channel`, `--project` and `--slices` in the run record's `[run]`.
    pub(super) fn record_planes(&self, record: &mut RunRecord) {
        match &self.channel {
            Some(ctc::ChannelArg::Number(c)) => _ = record.section("run").set("channel", *c),
            Some(ctc::ChannelArg::Name(c)) => _ = record.section("run").set("channel", c.as_str()),
            None => {}
        }
        if let Some(p) = self.project {
            record.section("run").set("project", p.name());
        }
        if let Some(r) = self.slices {
            record.section("run").set("slices", String::from(r));
        }
        if let Some(p) = self.position {
            record.section("run").set("position", p);
        }
    }
}

/// The model segmenter's settings on the command line.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model segmenter: a checkpoint from `cellstream train`, or `fluo`,
    /// `phase` or `colony` for the compiled-in model tuned to that modality,
    /// or `nuclei` for real fluorescent nuclei (default: `builtin`, the
    /// built-in model, for any of them; on real nuclei `nuclei` and `fluo` do
    /// far better, see README).
    #[arg(long, value_name = "FILE.safetensors|NAME")]
    pub model: Option<PathBuf>,
    /// Model segmenter: auto (CUDA when libtorch sees a GPU), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Model segmenter: `auto` (whole frames up to 2048², else 1024 px tiles), `full`, or a tile side in pixels.
    #[arg(long, default_value = "auto")]
    pub tiles: Tiles,
    /// Model segmenter: overlap of neighbouring tiles in pixels (blended smoothly).
    #[arg(long, value_name = "PX", default_value_t = InferOptions::default().overlap)]
    pub overlap: usize,
    /// Model segmenter: restart from zero state over the last K frames for
    /// every frame, as in training (K network steps a frame), instead of
    /// carrying the state along the whole sequence.
    #[arg(long, value_name = "K")]
    pub window: Option<usize>,
    /// Model segmenter: auto (mixed precision on CUDA, f32 on the CPU), f32, bf16 or autocast.
    #[arg(long, default_value = "auto")]
    pub precision: Precision,
    /// Model segmenter: seeds are where p(cell) − p(boundary) exceeds this
    /// (0.85 suits fluorescent nuclei with the built-in model; see README).
    #[arg(long, value_name = "P", default_value_t = model_post_params().seed_threshold)]
    pub seed_threshold: f32,
    /// Model segmenter: cells cover the pixels where 1 − p(background)
    /// exceeds this; higher draws tighter outlines.
    #[arg(long, value_name = "P", default_value_t = model_post_params().threshold)]
    pub foreground_threshold: f32,
    /// Model segmenter: test-time augmentation; average the probabilities
    /// over the frame's four mirror images (4× the network's time).
    #[arg(long)]
    pub tta: bool,
    /// Model segmenter: resize each frame by F before the network and its
    /// probabilities back (Cellpose's diameter): F = the model's cell
    /// diameter / yours. The shipped models learned cells about 15–22 px
    /// across (nuclei 21), so 0.5 suits cells of 40 px. `auto` chooses F
    /// from 0.35 to 2.8 on the first frame, where the network is surest of
    /// the cells' cores.
    #[arg(long, value_name = "F|auto", default_value = "1", value_parser = scale_arg)]
    pub scale: ScaleArg,
    /// Model segmenter: invert the frames' grey levels for the network, for
    /// cells of the opposite contrast to the model's training images (bright
    /// phase-contrast cells such as PhC-C2DL-PSC's with `--model colony` or
    /// `phase`; see README). A model trained with `train --invert` inverts by
    /// itself; this flag then undoes it.
    #[arg(long)]
    pub invert: bool,
    /// Model segmenter: also write each frame's foreground probability
    /// (DIR/foreground/probTTT.tif) and seed map (DIR/seeds/seedTTT.tif) as
    /// float TIFFs, so that `postprocess --input DIR/foreground --seeds
    /// DIR/seeds` can try other post-processing without the network.
    #[arg(long, value_name = "DIR")]
    pub save_probabilities: Option<PathBuf>,
}

impl ModelArgs {
    pub fn source(&self) -> ModelSource {
        self.model.as_deref().map_or(ModelSource::Builtin, ModelSource::from_arg)
    }

    pub fn options(&self) -> InferOptions {
        InferOptions {
            tiles: self.tiles,
            overlap: self.overlap,
            window: self.window,
            precision: self.precision,
            mirrors: self.tta,
            scale: match self.scale {
                ScaleArg::Factor(f) => f,
                ScaleArg::Auto => 1.0,
            },
            invert: self.invert,
            ..InferOptions::default()
        }
    }
}

/// `--follow`: a positive number of seconds.
fn follow_seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if v > 0.0 && v.is_finite() { Ok(v) } else { Err(format!("{v} is not a positive number of seconds")) }
}

/// `--scale`: a factor, or chosen from the first frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScaleArg {
    /// [`crate::model::Predictor::choose_scale`] on the first frame.
    Auto,
    Factor(f32),
}

/// `--scale`: `auto`, or a factor from 1/8 to 8.
fn scale_arg(s: &str) -> Result<ScaleArg, String> {
    if s.trim() == "auto" {
        return Ok(ScaleArg::Auto);
    }
    let v: f32 = s.parse().map_err(|e| format!("{s}: {e}; expected auto or a factor from 0.125 to 8"))?;
    if (0.125..=8.0).contains(&v) { Ok(ScaleArg::Factor(v)) } else { Err(format!("{v} is not a scale factor from 0.125 to 8 (or auto)")) }
}

/// The post-processing chain's settings on the command line.
#[derive(Args, Debug, Clone)]
pub struct PostArgs {
    /// Radius of the disk of the binary closing, in pixels (0: none);
    /// default 0 for the model, 2 for the classical segmenter.
    #[arg(long, value_name = "PX")]
    pub closing_radius: Option<usize>,
    /// Objects smaller than this many pixels are removed; default 20 for the
    /// model, 25 for the classical segmenter.
    #[arg(long, value_name = "PX")]
    pub min_area: Option<usize>,
    /// Least distance between two cell centres, in pixels (the watershed's markers).
    #[arg(long, value_name = "PX", default_value_t = 6)]
    pub min_distance: usize,
    /// Objects whose mean probability is below P are removed (the model:
    /// 1 − p(background); the classical segmenter: normalised intensity); 0 keeps all.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub min_confidence: f32,
    /// Objects smaller than F × the frame's median object area join the
    /// neighbour they border most, or go where they border none (0: off;
    /// 0.2 raised precision on real nuclei, see README).
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub merge_fragments: f32,
    /// Remove the objects the frame's edge cuts (Cellpose's `exclude_on_edges`),
    /// for annotations that leave cut cells out, as PhC-C2DL-PSC's silver
    /// truth does; their tracks end where they reach the edge. With
    /// `--masks`, from each mask before linking.
    #[arg(long)]
    pub exclude_on_edges: bool,
    /// `on`: split every object that covers two or more cells of the frame
    /// before into one object per cell, since cells do not fuse, for up to 5
    /// frames past the last frame that held them apart (README, Splitting
    /// merges with the frame before). Default on for the model, off for the
    /// classical segmenter and for `--masks`.
    #[arg(long, value_name = "on|off", value_parser = on_off)]
    pub split_merges: Option<bool>,
}

/// `on` or `off`.
pub(crate) fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{s:?} is neither on nor off")),
    }
}

impl PostArgs {
    /// The merge splitting in force: `--split-merges` if given, else `default`.
    pub fn merge_split(&self, default: bool) -> Option<MergeSplit> {
        self.split_merges.unwrap_or(default).then(MergeSplit::default)
    }

    /// The classical segmenter's chain: distance-transform maxima as markers.
    pub fn params(&self) -> PostParams {
        let base = ClassicalParams::default().post;
        PostParams {
            closing_radius: self.closing_radius.unwrap_or(base.closing_radius),
            min_area: self.min_area.unwrap_or(base.min_area),
            seeds: SeedMode::DistanceMaxima { min_distance: self.min_distance },
            min_confidence: self.min_confidence,
            merge_fragments: self.merge_fragments,
            exclude_on_edges: self.exclude_on_edges,
            ..base
        }
    }

    /// The model segmenter's chain: seeds from the network's cell-minus-boundary map.
    pub fn model_params(&self, seed_threshold: f32, threshold: f32) -> PostParams {
        let base = model_post_params();
        PostParams {
            closing_radius: self.closing_radius.unwrap_or(base.closing_radius),
            min_area: self.min_area.unwrap_or(base.min_area),
            seed_threshold,
            threshold,
            min_confidence: self.min_confidence,
            merge_fragments: self.merge_fragments,
            exclude_on_edges: self.exclude_on_edges,
            ..base
        }
    }
}
