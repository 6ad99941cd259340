//! Streamed inference: frames in, class probabilities out, each tile carrying its recurrent state.
use std::collections::VecDeque;
use std::path::Path;

use anyhow::{bail, Result};
use ndarray::{s, Array2, ArrayView2, Zip};
use tch::{Device, Kind, Tensor};

use super::checkpoint::{self, Loaded};
use super::config::ModelConfig;
use super::device::DeviceChoice;
use super::net::{probabilities, ConvLstmUNet, State};
use super::resample::{resize, scaled_dim};
use crate::segment::{percentile_normalise_frame, PERCENTILES};
use super::tiles::Tiling;
use crate::ctc::{Frame, Mask};
use crate::post::{self, PostParams};

/// Frames up to this many (padded) pixels run whole under [`Tiles::Auto`].
pub const FULL_FRAME_MAX_PIXELS: usize = 2048 * 2048;
/// Tile size [`Tiles::Auto`] uses for larger frames.
pub const AUTO_TILE: usize = 1024;

/// How frames are cut before the network sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tiles {
    /// Whole frames up to [`FULL_FRAME_MAX_PIXELS`], else tiles of [`AUTO_TILE`].
    #[default]
    Auto,
    /// The whole (reflection-padded) frame at once.
    Full,
    /// Square tiles of this many pixels (a multiple of 2^depth).
    Size(usize),
}

/// Arithmetic precision at inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Mixed precision on CUDA, f32 on the CPU.
    #[default]
    Auto,
    F32,
    /// libtorch's CUDA autocast (`tch::autocast`): convolutions in reduced
    /// precision (libtorch's default autocast type, float16; tch 0.24 does not
    /// expose the choice of bfloat16), reductions in f32. CUDA only.
    Autocast,
    /// Weights and activations in bfloat16 (works on the CPU too).
    Bf16,
}

/// Settings of a [`Predictor`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InferOptions {
    pub tiles: Tiles,
    /// Overlap between neighbouring tiles in pixels, blended by a Hann ramp.
    pub overlap: usize,
    /// `Some(k)`: instead of carrying the state over the whole stream,
    /// restart from zero state over the last `k` frames for every frame (as
    /// in training); costs `k` network steps per frame.
    pub window: Option<usize>,
    pub precision: Precision,
    /// Tiles sent through the network together.
    pub tile_batch: usize,
    /// Test-time augmentation: average the probabilities over the four
    /// mirror images of each frame (as is, left–right, up–down, both), each
    /// streamed with its own recurrent state. Four network steps a frame.
    pub mirrors: bool,
    /// Frames are resized by this factor before the network and its
    /// probabilities resized back to the frame ([`super::resize`]), so that
    /// cells of another size than the training cells reach the network at
    /// theirs (Cellpose's diameter). 1: as they are.
    pub scale: f32,
    /// Frames are inverted before the network (dark becomes bright), for
    /// cells whose contrast is the opposite of the training images' (as
    /// Cellpose's `--invert`): [`invert`].
    pub invert: bool,
}

impl Default for InferOptions {
    fn default() -> Self {
        InferOptions { tiles: Tiles::Auto, overlap: 64, window: None, precision: Precision::Auto, tile_batch: 4, mirrors: false, scale: 1.0, invert: false }
    }
}

/// Per-pixel class probabilities of one frame (they sum to 1 at each pixel).
#[derive(Debug, Clone, PartialEq)]
pub struct Probabilities {
    pub background: Array2<f32>,
    pub cell: Array2<f32>,
    pub boundary: Array2<f32>,
}

impl Probabilities {
    /// Cells labelled with [`post::instances_from_seeds`] under `params`:
    /// foreground `1 − p(background)`, seeds where `p(cell) − p(boundary)`
    /// exceeds `params.seed_threshold`, a watershed between them.
    pub fn instances_with(&self, params: &PostParams) -> Mask {
        let (foreground, seeds) = self.maps();
        Probabilities::instances_from_maps(foreground.view(), seeds.view(), params)
    }

    /// [`Probabilities::instances_with`] from maps already made by
    /// [`Probabilities::maps`] (when they are also written out).
    pub fn instances_from_maps(foreground: ArrayView2<f32>, seeds: ArrayView2<f32>, params: &PostParams) -> Mask {
        post::instances_from_seeds(foreground, seeds, params)
    }

    /// The two maps the post chain reads: the foreground probability
    /// `1 − p(background)` and the seed map `p(cell) − p(boundary)`, each
    /// clamped to [0, 1]. `track --save-probabilities` writes exactly these,
    /// so that `postprocess --input … --seeds …` redraws `track`'s cells.
    pub fn maps(&self) -> (Array2<f32>, Array2<f32>) {
        let foreground = self.background.mapv(|b| (1.0 - b).clamp(0.0, 1.0));
        let seeds = (&self.cell - &self.boundary).mapv(|v| v.clamp(0.0, 1.0));
        (foreground, seeds)
    }

    /// The probabilities of the mirror image `m` of the frame (so
    /// `m.apply` undoes it: every mirror is its own inverse).
    fn mirrored(&self, m: Mirror) -> Probabilities {
        Probabilities { background: m.apply(self.background.view()), cell: m.apply(self.cell.view()), boundary: m.apply(self.boundary.view()) }
    }

    /// [`Probabilities::instances_with`] [`Probabilities::post_params`].
    pub fn instances(&self) -> Mask {
        self.instances_with(&Probabilities::post_params())
    }

    /// The post-processing defaults for a network's output: foreground where
    /// p(background) < 0.5, seeds where p(cell) − p(boundary) > 0.5, no
    /// closing (the network already fills cells), fragments under 20 px dropped.
    pub fn post_params() -> PostParams {
        PostParams { closing_radius: 0, min_area: 20, ..PostParams::default() }
    }
}

/// The frame with its grey levels reversed: `max − v` in its integer type
/// (255 or 65535), `−v` for float frames. Percentile normalisation then maps
/// the darkest pixels to the top, as if the cells had the opposite contrast.
///
/// ```
/// use cellstream::{ctc::Frame, model::invert};
/// use ndarray::array;
/// assert_eq!(invert(&Frame::U8(array![[0, 10, 255]])), Frame::U8(array![[255, 245, 0]]));
/// assert_eq!(invert(&Frame::F32(array![[0.5, -1.0]])), Frame::F32(array![[-0.5, 1.0]]));
/// ```
pub fn invert(frame: &Frame) -> Frame {
    match frame {
        Frame::U8(a) => Frame::U8(a.mapv(|v| u8::MAX - v)),
        Frame::U16(a) => Frame::U16(a.mapv(|v| u16::MAX - v)),
        Frame::F32(a) => Frame::F32(a.mapv(|v| -v)),
    }
}

/// A mirror image of a frame: which of its axes are reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mirror {
    rows: bool,
    cols: bool,
}

impl Mirror {
    pub(crate) const IDENTITY: Mirror = Mirror { rows: false, cols: false };
    /// The four mirror images: a group (each is its own inverse, and any two
    /// compose to a third), so the average over them of the network's
    /// output, each mirrored back, mirrors exactly with the frame.
    pub(crate) const ALL: [Mirror; 4] =
        [Mirror::IDENTITY, Mirror { rows: false, cols: true }, Mirror { rows: true, cols: false }, Mirror { rows: true, cols: true }];

    pub(crate) fn apply(self, a: ndarray::ArrayView2<f32>) -> Array2<f32> {
        let mut v = a;
        if self.rows {
            v.invert_axis(ndarray::Axis(0));
        }
        if self.cols {
            v.invert_axis(ndarray::Axis(1));
        }
        v.to_owned()
    }
}

/// The streaming engine, independent of who owns the network (a
/// [`Predictor`], or training's validation).
pub(crate) struct Streamer {
    options: InferOptions,
    multiple: usize,
    kind: Kind,
    autocast: bool,
    tiling: Option<Tiling>,
    /// One recurrent state per batch of tiles (stateful mode).
    states: Vec<State>,
    /// The last `k` padded frames (window mode).
    history: VecDeque<Array2<f32>>,
}

impl Streamer {
    pub(crate) fn new(options: InferOptions, config: &ModelConfig, device: Device) -> Result<Streamer> {
        if options.tile_batch == 0 {
            bail!("tile batch must be at least 1");
        }
        if options.window == Some(0) {
            bail!("window must be at least 1 frame");
        }
        let (kind, autocast) = match (options.precision, device.is_cuda()) {
            (Precision::Auto, true) | (Precision::Autocast, true) => (Kind::Float, true),
            (Precision::Autocast, false) => bail!("autocast (mixed precision) needs a CUDA device; use f32 or bf16 on the CPU"),
            (Precision::Auto, false) | (Precision::F32, _) => (Kind::Float, false),
            (Precision::Bf16, _) => (Kind::BFloat16, false),
        };
        Ok(Streamer { options, multiple: config.multiple(), kind, autocast, tiling: None, states: Vec::new(), history: VecDeque::new() })
    }

    /// Kind the network's weights must have.
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// Forgets the state and the frame size: the next frame starts a new stream.
    pub(crate) fn reset(&mut self) {
        self.tiling = None;
        self.states.clear();
        self.history.clear();
    }

    fn plan(&self, frame: (usize, usize)) -> Result<Tiling> {
        let m = self.multiple;
        let tile = match self.options.tiles {
            Tiles::Full => None,
            Tiles::Size(t) => Some(t),
            Tiles::Auto => {
                let padded = frame.0.div_ceil(m) * m * frame.1.div_ceil(m) * m;
                (padded > FULL_FRAME_MAX_PIXELS).then_some(AUTO_TILE)
            }
        };
        Tiling::new(frame, tile, self.options.overlap, m).map_err(anyhow::Error::msg)
    }

    /// One normalised frame through the network; returns its probabilities.
    pub(crate) fn push(&mut self, net: &ConvLstmUNet, device: Device, frame: &Array2<f32>) -> Result<Probabilities> {
        let dim = frame.dim();
        match &self.tiling {
            None => self.tiling = Some(self.plan(dim)?),
            Some(t) if t.frame != dim => bail!(
                "frame is {}×{} but the stream started with {}×{} frames (width×height); reset the predictor between sequences",
                dim.1, dim.0, t.frame.1, t.frame.0
            ),
            Some(_) => {}
        }
        let tiling = self.tiling.clone().expect("planned above");
        let canvas = tiling.pad(frame.view());
        match self.options.window {
            Some(k) => {
                self.history.push_back(canvas);
                while self.history.len() > k {
                    self.history.pop_front();
                }
            }
            None => self.history = VecDeque::from([canvas]),
        }
        let (th, tw) = tiling.tile;
        let mut sum = ndarray::Array3::<f32>::zeros((3, tiling.canvas.0, tiling.canvas.1));
        let mut weight = Array2::<f32>::zeros(tiling.canvas);
        let origins = tiling.origins();
        let batches = origins.len().div_ceil(self.options.tile_batch);
        if self.states.len() != batches {
            self.states = (0..batches).map(|_| State::new()).collect();
        }
        for (bi, batch) in origins.chunks(self.options.tile_batch).enumerate() {
            let mut fresh = State::new();
            let state = if self.options.window.is_some() { &mut fresh } else { &mut self.states[bi] };
            let mut logits = None;
            for canvas in &self.history {
                let shape = [batch.len() as i64, 1, th as i64, tw as i64];
                let xs = match canvas.as_slice() {
                    // One tile over the whole canvas: the canvas itself, copied once.
                    Some(whole) if origins.len() == 1 && tiling.canvas == (th, tw) => Tensor::from_slice(whole),
                    _ => {
                        let mut data: Vec<f32> = Vec::with_capacity(batch.len() * th * tw);
                        for &(y, x) in batch {
                            data.extend(canvas.slice(s![y..y + th, x..x + tw]).iter());
                        }
                        Tensor::from_slice(&data)
                    }
                };
                let xs = xs.view(shape).to_device(device).to_kind(self.kind);
                let mut step = || tch::no_grad(|| net.forward_step(&xs, state, false));
                logits = Some(if self.autocast { tch::autocast(true, step) } else { step() });
            }
            let probs = tch::no_grad(|| probabilities(&logits.expect("at least one frame")));
            if origins.len() == 1 {
                // One tile over the whole canvas: its weights are all 1, so
                // the blend below would return the tile itself, bit for bit.
                // Each class is copied straight from the tensor into its array.
                let (h, w) = dim;
                let class = |c: i64| -> Result<Array2<f32>> {
                    let mut a = Array2::<f32>::zeros((th, tw));
                    probs.get(0).get(c).f_copy_data(a.as_slice_mut().expect("standard layout"), th * tw)?;
                    Ok(if (th, tw) == (h, w) { a } else { a.slice(s![..h, ..w]).to_owned() })
                };
                return Ok(Probabilities { background: class(0)?, cell: class(1)?, boundary: class(2)? });
            }
            let probs = probs.to_device(Device::Cpu).contiguous();
            let values = Vec::<f32>::try_from(probs.view(-1))?;
            let probs = ndarray::Array4::from_shape_vec((batch.len(), 3, th, tw), values)?;
            for (i, &(y, x)) in batch.iter().enumerate() {
                let w = tiling.weights((y, x));
                for c in 0..3 {
                    Zip::from(sum.slice_mut(s![c, y..y + th, x..x + tw])).and(probs.slice(s![i, c, .., ..])).and(&w).for_each(|a, &p, &w| *a += p * w);
                }
                let mut acc = weight.slice_mut(s![y..y + th, x..x + tw]);
                acc += &w;
            }
        }
        let (h, w) = dim;
        let class = |c: usize| Zip::from(sum.slice(s![c, ..h, ..w])).and(weight.slice(s![..h, ..w])).map_collect(|&s, &w| s / w);
        Ok(Probabilities { background: class(0), cell: class(1), boundary: class(2) })
    }
}

/// How much a neighbouring scale must raise [`Predictor::choose_scale`]'s
/// score to be taken: more than PSC's near tie between 1 and 1.41 (0.9554
/// against 0.9560), less than the smallest step that led to the best SEG
/// among the README's cases (0.0035, dense colonies at twice their size).
const SCALE_MARGIN: f32 = 0.002;

/// A trained network streaming frames: [`Predictor::push`] one frame at a
/// time, in time order; the recurrent state of every tile carries over.
pub struct Predictor {
    loaded: Loaded,
    device: Device,
    /// One stream per mirror image: only the identity unless
    /// [`InferOptions::mirrors`].
    streamers: Vec<(Mirror, Streamer)>,
}

impl Predictor {
    /// Loads a checkpoint onto the requested device (a CUDA request without
    /// CUDA is an error, not a fall-back).
    pub fn load(path: &Path, device: DeviceChoice, options: InferOptions) -> Result<Predictor> {
        let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: cannot read the checkpoint ({e})", path.display()))?;
        Predictor::from_bytes(path, &bytes, device, options)
    }

    /// [`Predictor::load`] from a checkpoint's bytes (`path` names it in errors).
    pub fn from_bytes(path: &Path, bytes: &[u8], device: DeviceChoice, options: InferOptions) -> Result<Predictor> {
        let device = device.resolve().map_err(anyhow::Error::msg)?;
        let mut loaded = checkpoint::load_bytes(path, bytes, device)?;
        let mirrors: &[Mirror] = if options.mirrors { &Mirror::ALL } else { &[Mirror::IDENTITY] };
        let streamers = mirrors.iter().map(|&m| Ok((m, Streamer::new(options, loaded.net.config(), device)?))).collect::<Result<Vec<_>>>()?;
        let kind = streamers[0].1.kind();
        if kind != Kind::Float {
            loaded.vs.set_kind(kind);
        }
        loaded.net.freeze();
        Ok(Predictor { loaded, device, streamers })
    }

    /// The next frame of the stream: inverted if exactly one of
    /// [`InferOptions::invert`] and the model's [`ModelConfig::invert`] is set,
    /// normalised per frame (percentiles 1–99.8), resized by
    /// [`InferOptions::scale`] for the network and its probabilities resized
    /// back to the frame.
    pub fn push(&mut self, frame: &Frame) -> Result<Probabilities> {
        let normalised = self.normalised(frame);
        let scale = self.options().scale;
        if scale == 1.0 {
            return self.push_normalised(&normalised);
        }
        let dim = normalised.dim();
        let p = self.push_normalised(&resize(normalised.view(), scaled_dim(dim, scale)))?;
        Ok(Probabilities { background: resize(p.background.view(), dim), cell: resize(p.cell.view(), dim), boundary: resize(p.boundary.view(), dim) })
    }

    /// The frame as the network takes it before resizing: inverted if
    /// exactly one of [`InferOptions::invert`] and the model's
    /// [`ModelConfig::invert`] is set, normalised per frame.
    fn normalised(&self, frame: &Frame) -> Array2<f32> {
        // `--invert` reverses what the model expects: as it learned (a model
        // trained on inverted frames inverts), or the opposite.
        if self.options().invert != self.config().invert {
            percentile_normalise_frame(&invert(frame), PERCENTILES.0, PERCENTILES.1)
        } else {
            percentile_normalise_frame(frame, PERCENTILES.0, PERCENTILES.1)
        }
    }

    /// Chooses [`InferOptions::scale`] for cells of unknown size from one
    /// frame (`track --scale auto`), and sets it. Each candidate scale
    /// `2^(k/2)`, k from −3 to 3 (0.35 to 2.8), runs the network on the frame
    /// alone, from zero state, and is scored by the mean of the seed map
    /// `p(cell) − p(boundary)` over the pixels where it exceeds
    /// `seed_threshold`: how sure the network is of the cells' cores. The
    /// search climbs from 1 in steps of √2 towards the better neighbour
    /// while the score rises. On the simulated and HeLa sequences, with cells
    /// at their size, twice it and half it, this score peaks at the scale
    /// whose SEG is best (README, On your images). A step is taken only if
    /// it raises the score by more than `SCALE_MARGIN` (0.002), so that a near tie
    /// keeps the scale nearer the model's own. Returns the scale and
    /// every (scale, score) tried, in the order tried.
    pub fn choose_scale(&mut self, frame: &Frame, seed_threshold: f32) -> Result<(f32, Vec<(f32, f32)>)> {
        let normalised = self.normalised(frame);
        let dim = normalised.dim();
        let options = InferOptions { mirrors: false, window: None, ..*self.options() };
        let mut tried: Vec<(i32, f32, f32)> = Vec::new();
        let mut score = |k: i32| -> Result<f32> {
            if let Some(&(_, _, v)) = tried.iter().find(|t| t.0 == k) {
                return Ok(v);
            }
            let scale = 2f32.powf(k as f32 / 2.0);
            let mut streamer = Streamer::new(InferOptions { scale, ..options }, self.loaded.net.config(), self.device)?;
            let input = if k == 0 { normalised.clone() } else { resize(normalised.view(), scaled_dim(dim, scale)) };
            let p = streamer.push(&self.loaded.net, self.device, &input)?;
            let (sum, n) = Zip::from(&p.cell).and(&p.boundary).fold((0f64, 0usize), |(sum, n), &c, &b| {
                let v = c - b;
                if v > seed_threshold { (sum + f64::from(v), n + 1) } else { (sum, n) }
            });
            let v = if n == 0 { 0.0 } else { (sum / n as f64) as f32 };
            tried.push((k, scale, v));
            Ok(v)
        };
        let (centre, down, up) = (score(0)?, score(-1)?, score(1)?);
        let mut best: i32 = 0;
        if down.max(up) > centre + SCALE_MARGIN {
            let step: i32 = if up > down { 1 } else { -1 };
            best = step;
            while (best + step).abs() <= 3 && score(best + step)? > score(best)? + SCALE_MARGIN {
                best += step;
            }
        }
        let scale = 2f32.powf(best as f32 / 2.0);
        for (_, streamer) in &mut self.streamers {
            streamer.options.scale = scale;
            streamer.reset();
        }
        Ok((scale, tried.into_iter().map(|(_, s, v)| (s, v)).collect()))
    }

    /// The next frame, already normalised.
    pub fn push_normalised(&mut self, frame: &Array2<f32>) -> Result<Probabilities> {
        let (net, device) = (&self.loaded.net, self.device);
        if let [(_, streamer)] = self.streamers.as_mut_slice() {
            return streamer.push(net, device, frame);
        }
        let mut mean: Option<Probabilities> = None;
        for (m, streamer) in &mut self.streamers {
            let p = streamer.push(net, device, &m.apply(frame.view()))?.mirrored(*m);
            match &mut mean {
                None => mean = Some(p),
                Some(acc) => {
                    acc.background += &p.background;
                    acc.cell += &p.cell;
                    acc.boundary += &p.boundary;
                }
            }
        }
        let mut mean = mean.expect("at least one mirror");
        let n = self.streamers.len() as f32;
        for a in [&mut mean.background, &mut mean.cell, &mut mean.boundary] {
            *a /= n;
        }
        Ok(mean)
    }

    /// Starts a new stream (zero state, any frame size).
    pub fn reset(&mut self) {
        for (_, s) in &mut self.streamers {
            s.reset();
        }
    }

    pub fn config(&self) -> &ModelConfig {
        self.loaded.net.config()
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn options(&self) -> &InferOptions {
        &self.streamers[0].1.options
    }

    /// The checkpoint's metadata.
    pub fn metadata(&self) -> &std::collections::HashMap<String, String> {
        &self.loaded.metadata
    }
}

impl std::str::FromStr for Tiles {
    type Err = String;
    /// `auto`, `full`, or a tile side in pixels.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" => Ok(Tiles::Auto),
            "full" => Ok(Tiles::Full),
            n => match n.parse::<usize>() {
                Ok(v) if v > 0 => Ok(Tiles::Size(v)),
                _ => Err(format!("unknown tiling {s:?}; expected auto, full or a tile side in pixels")),
            },
        }
    }
}

impl std::fmt::Display for Tiles {
    /// As [`Tiles::from_str`](std::str::FromStr) reads it: `auto`, `full` or the tile side.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tiles::Auto => f.write_str("auto"),
            Tiles::Full => f.write_str("full"),
            Tiles::Size(n) => write!(f, "{n}"),
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" => Ok(Precision::Auto),
            "f32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            "autocast" => Ok(Precision::Autocast),
            _ => Err(format!("unknown precision {s:?}; expected auto, f32, bf16 or autocast")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Tiles;

    #[test]
    fn tiles_read_back_what_they_write() {
        for t in [Tiles::Auto, Tiles::Full, Tiles::Size(512)] {
            assert_eq!(t.to_string().parse::<Tiles>(), Ok(t));
        }
        assert_eq!(Tiles::Size(256).to_string(), "256");
    }
}
