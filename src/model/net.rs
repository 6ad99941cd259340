//! The ConvLSTM-UNet (Arbelle & Raviv, ISBI 2019): a U-Net whose encoder levels open with convolutional LSTM cells.
//!
//! Encoder level `l` (width `w = base_width·2^l`): a ConvLSTM cell (Shi et al.
//! 2015; gates from one 3×3 convolution over `[input, h]`) or, with
//! `lstm = false`, a 3×3 convolution block; then conv 3×3 → norm → ReLU. Its
//! output is the level's skip and, max-pooled 2×, the next level's input.
//! Decoder level `l`: bilinear 2× upsampling, 1×1 convolution to `w` (in
//! the other order at inference, which is the same map), joined with skip
//! `l`, then conv 3×3 → norm → ReLU. A 1×1 head gives [`CLASSES`] logits.
use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

use super::config::{ModelConfig, Norm, CLASSES};

/// Weight of each batch's statistics in a BatchNorm layer's running averages.
const BN_MOMENTUM: f64 = 0.1;
/// BatchNorm's ε (tch's default, which the layers are built with).
const BN_EPS: f64 = 1e-5;

/// Normalisation layer after a convolution.
#[derive(Debug)]
enum NormLayer {
    Pixel { weight: Tensor, bias: Tensor },
    Group(nn::GroupNorm),
    Batch(nn::BatchNorm),
    None,
}

impl NormLayer {
    fn new(p: nn::Path, cfg: &ModelConfig, channels: i64) -> NormLayer {
        match cfg.norm {
            Norm::Pixel => NormLayer::Pixel {
                weight: p.var("weight", &[1, channels, 1, 1], nn::Init::Const(1.)),
                bias: p.var("bias", &[1, channels, 1, 1], nn::Init::Const(0.)),
            },
            Norm::Group => {
                let groups = (1..=cfg.groups as i64).rev().find(|g| channels % g == 0).unwrap_or(1);
                NormLayer::Group(nn::group_norm(p, groups, channels, Default::default()))
            }
            Norm::Batch => NormLayer::Batch(nn::batch_norm2d(p, channels, nn::BatchNormConfig { momentum: BN_MOMENTUM, eps: BN_EPS, ..Default::default() })),
            Norm::None => NormLayer::None,
        }
    }

    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        match self {
            NormLayer::Pixel { weight, bias } => {
                let mean = xs.mean_dim(1, true, None);
                let centred = xs - mean;
                let var = centred.square().mean_dim(1, true, None);
                centred * (var + 1e-5).rsqrt() * weight + bias
            }
            NormLayer::Group(g) => g.forward_t(xs, train),
            NormLayer::Batch(b) => b.forward_t(xs, train),
            NormLayer::None => xs.shallow_clone(),
        }
    }
}

impl NormLayer {
    fn batch_norm(&self) -> Option<&nn::BatchNorm> {
        match self {
            NormLayer::Batch(b) => Some(b),
            _ => None,
        }
    }
}

/// Convolution 3×3 → normalisation → ReLU.
#[derive(Debug)]
struct ConvBlock {
    conv: nn::Conv2D,
    norm: NormLayer,
    /// The BatchNorm folded into the convolution once for good
    /// ([`ConvLstmUNet::freeze`]), instead of at every inference step.
    frozen: Option<(Tensor, Tensor)>,
}

impl ConvBlock {
    fn new(p: nn::Path, cfg: &ModelConfig, c_in: i64, c_out: i64) -> ConvBlock {
        let conv_cfg = nn::ConvConfig { padding: 1, bias: cfg.norm == Norm::None, ..Default::default() };
        ConvBlock { conv: nn::conv2d(&p / "conv", c_in, c_out, 3, conv_cfg), norm: NormLayer::new(&p / "norm", cfg, c_out), frozen: None }
    }

    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let conv_relu = |w: &Tensor, b: &Tensor| {
            let mut y = xs.conv2d(w, Some(b), [1, 1], [1, 1], [1, 1], 1);
            let _ = y.relu_();
            y
        };
        if let (Some((w, b)), false) = (&self.frozen, train) {
            return conv_relu(w, b);
        }
        if let (NormLayer::Batch(bn), false) = (&self.norm, train) {
            // Inference: BatchNorm folded into the convolution, one pass
            // over the activations fewer (Jacob et al. 2018, §3.2). Under
            // autograd (weights that track gradients) the layers stay apart.
            let (w, b) = folded(&self.conv.ws, bn);
            if !w.requires_grad() {
                return conv_relu(&w, &b);
            }
        }
        self.norm.forward_t(&xs.apply(&self.conv), train).relu()
    }

    fn freeze(&mut self) {
        if let NormLayer::Batch(bn) = &self.norm {
            self.frozen = Some(tch::no_grad(|| folded(&self.conv.ws, bn)));
        }
    }
}

/// Torch's random generator is one per process. Whatever seeds it or draws
/// from it (a new network's initial weights, when training starts or a
/// checkpoint is loaded into a fresh network) holds this, so that a seeded
/// training run draws what it seeded while another thread loads a model.
pub(crate) fn torch_rng() -> std::sync::MutexGuard<'static, ()> {
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// A bias-free convolution's weight and bias with an evaluation-mode
/// BatchNorm after it folded in: `w·s` and `β − μ·s`, `s = γ / √(σ² + ε)`.
/// Computed in f32 whatever the weights' kind, then given their kind.
fn folded(ws: &Tensor, bn: &nn::BatchNorm) -> (Tensor, Tensor) {
    let f32 = |t: &Tensor| t.to_kind(Kind::Float);
    let mean = f32(&bn.running_mean);
    let gamma = bn.ws.as_ref().map_or_else(|| mean.ones_like(), f32);
    let beta = bn.bs.as_ref().map_or_else(|| mean.zeros_like(), f32);
    let s = gamma * (f32(&bn.running_var) + BN_EPS).rsqrt();
    let w = f32(ws) * s.view([-1, 1, 1, 1]);
    let b = beta - mean * s;
    (w.to_kind(ws.kind()), b.to_kind(ws.kind()))
}

/// A convolutional LSTM cell (Shi et al., NeurIPS 2015), without peepholes:
/// `[i, f, g, o] = conv3×3([x, h])`, `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`.
#[derive(Debug)]
struct ConvLstmCell {
    gates: nn::Conv2D,
    hidden: i64,
}

impl ConvLstmCell {
    fn new(p: nn::Path, c_in: i64, hidden: i64) -> ConvLstmCell {
        let gates = nn::conv2d(&p / "gates", c_in + hidden, 4 * hidden, 3, nn::ConvConfig { padding: 1, ..Default::default() });
        // Forget-gate bias 1 (Jozefowicz et al. 2015): remember by default.
        tch::no_grad(|| {
            if let Some(b) = &gates.bs {
                let _ = b.narrow(0, hidden, hidden).fill_(1.0);
            }
        });
        ConvLstmCell { gates, hidden }
    }

    /// One time step; `hc` is this level's `(h, c)`, zero when `None`.
    fn step(&self, xs: &Tensor, hc: &Option<(Tensor, Tensor)>) -> (Tensor, Tensor) {
        let (b, _, h, w) = xs.size4().expect("4-d input");
        let zeros = || Tensor::zeros([b, self.hidden, h, w], (xs.kind(), xs.device()));
        let (h0, c0) = match hc {
            Some((h0, c0)) => (h0.shallow_clone(), c0.shallow_clone()),
            None => (zeros(), zeros()),
        };
        let gates = Tensor::cat(&[xs, &h0], 1).apply(&self.gates);
        if gates.requires_grad() {
            let g = gates.chunk(4, 1);
            let c1 = g[1].sigmoid() * c0 + g[0].sigmoid() * g[2].tanh();
            let h1 = g[3].sigmoid() * c1.tanh();
            return (h1, c1);
        }
        // Without autograd the same in place: two new tensors instead of nine.
        let n = self.hidden;
        let (i, f, g, o) = (gates.narrow(1, 0, n), gates.narrow(1, n, n), gates.narrow(1, 2 * n, n), gates.narrow(1, 3 * n, n));
        let _ = gates.narrow(1, 0, 2 * n).sigmoid_();
        let _ = g.shallow_clone().tanh_();
        let _ = o.shallow_clone().sigmoid_();
        let mut c1 = f * c0;
        let _ = c1.addcmul_(&i, &g);
        let mut h1 = c1.tanh();
        h1 *= &o;
        (h1, c1)
    }
}

/// The recurrent state carried from one frame to the next: `(h, c)` for each
/// encoder level (empty for a network without LSTM cells).
#[derive(Debug, Default)]
pub struct State {
    levels: Vec<Option<(Tensor, Tensor)>>,
}

impl State {
    /// The zero state (tensors are made at the first step, at the input's size).
    pub fn new() -> State {
        State::default()
    }

    /// Cuts the autograd history (truncated backpropagation through time).
    pub fn detach(&mut self) {
        for (h, c) in self.levels.iter_mut().flatten() {
            *h = h.detach();
            *c = c.detach();
        }
    }

    /// Zeroes the state of the batch items where `keep` is 0 (`keep`: shape `[B]`, 0 or 1).
    pub fn reset_items(&mut self, keep: &Tensor) {
        for (h, c) in self.levels.iter_mut().flatten() {
            let k = keep.to_device(h.device()).to_kind(h.kind()).view([-1, 1, 1, 1]);
            *h = &*h * &k;
            *c = &*c * &k;
        }
    }

    /// Whether no step has run yet.
    pub fn is_zero(&self) -> bool {
        self.levels.iter().all(Option::is_none)
    }
}

#[derive(Debug)]
struct EncoderLevel {
    cell: Option<ConvLstmCell>,
    entry: Option<ConvBlock>,
    block: ConvBlock,
}

#[derive(Debug)]
struct DecoderLevel {
    reduce: nn::Conv2D,
    block: ConvBlock,
}

/// The ConvLSTM-UNet: input `[B, 1, H, W]` frames, output `[B, 3, H, W]` logits.
#[derive(Debug)]
pub struct ConvLstmUNet {
    config: ModelConfig,
    encoder: Vec<EncoderLevel>,
    decoder: Vec<DecoderLevel>,
    head: nn::Conv2D,
}

impl ConvLstmUNet {
    /// Builds the network's variables under `p` (device and kind are the var store's).
    pub fn new(p: &nn::Path, config: &ModelConfig) -> ConvLstmUNet {
        let w = |l: usize| config.width(l) as i64;
        let encoder = (0..=config.depth)
            .map(|l| {
                let p = p / format!("enc{l}");
                let c_in = if l == 0 { 1 } else { w(l - 1) };
                let (cell, entry) = if config.lstm {
                    (Some(ConvLstmCell::new(&p / "lstm", c_in, w(l))), None)
                } else {
                    (None, Some(ConvBlock::new(&p / "entry", config, c_in, w(l))))
                };
                EncoderLevel { cell, entry, block: ConvBlock::new(&p / "block", config, w(l), w(l)) }
            })
            .collect();
        let decoder = (0..config.depth)
            .map(|l| {
                let p = p / format!("dec{l}");
                DecoderLevel {
                    reduce: nn::conv2d(&p / "reduce", w(l + 1), w(l), 1, Default::default()),
                    block: ConvBlock::new(&p / "block", config, 2 * w(l), w(l)),
                }
            })
            .collect();
        let head = nn::conv2d(p / "head", w(0), CLASSES, 1, Default::default());
        ConvLstmUNet { config: config.clone(), encoder, decoder, head }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// For inference only, once the weights are final (and of their final
    /// kind): folds each BatchNorm into its convolution once, so that
    /// evaluation steps do not fold them again (a dozen small operations a
    /// block, which cost launches on a GPU). Evaluation then ignores any
    /// later change to the weights; training steps are unaffected.
    pub fn freeze(&mut self) {
        for l in &mut self.encoder {
            if let Some(e) = &mut l.entry {
                e.freeze();
            }
            l.block.freeze();
        }
        for l in &mut self.decoder {
            l.block.freeze();
        }
    }

    /// One frame through the network: `x_t` `[B, 1, H, W]` (H, W multiples of
    /// 2^depth) → logits `[B, 3, H, W]`, updating `state` in place.
    pub fn forward_step(&self, x_t: &Tensor, state: &mut State, train: bool) -> Tensor {
        if state.levels.len() != self.encoder.len() {
            state.levels = (0..self.encoder.len()).map(|_| None).collect();
        }
        let mut skips = Vec::with_capacity(self.encoder.len());
        let mut xs = x_t.shallow_clone();
        for (l, level) in self.encoder.iter().enumerate() {
            if l > 0 {
                xs = xs.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
            }
            let entered = match (&level.cell, &level.entry) {
                (Some(cell), _) => {
                    let (h, c) = cell.step(&xs, &state.levels[l]);
                    state.levels[l] = Some((h.shallow_clone(), c));
                    h
                }
                (None, Some(entry)) => entry.forward_t(&xs, train),
                (None, None) => unreachable!("an encoder level has a cell or an entry block"),
            };
            xs = level.block.forward_t(&entered, train);
            skips.push(xs.shallow_clone());
        }
        for l in (0..self.decoder.len()).rev() {
            let (_, _, h, w) = skips[l].size4().expect("4-d skip");
            let reduce = &self.decoder[l].reduce;
            let up = if train {
                xs.upsample_bilinear2d([h, w], false, None, None).apply(reduce)
            } else {
                // At inference the 1×1 convolution first: the same map (the
                // bilinear weights sum to 1) on a quarter of the pixels.
                // Training keeps the order its recipes were run with, so
                // that they reproduce their checkpoints bit for bit.
                xs.apply(reduce).upsample_bilinear2d([h, w], false, None, None)
            };
            xs = self.decoder[l].block.forward_t(&Tensor::cat(&[&skips[l], &up], 1), train);
        }
        xs.apply(&self.head)
    }

    /// A window from zero state: `[B, T, 1, H, W]` → logits `[B, T, 3, H, W]`.
    pub fn forward_window(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut state = State::new();
        let t = xs.size()[1];
        let out: Vec<Tensor> = (0..t).map(|i| self.forward_step(&xs.select(1, i), &mut state, train)).collect();
        Tensor::stack(&out, 1)
    }

    /// The network's BatchNorm layers, in a fixed order.
    fn batch_norms(&self) -> Vec<&nn::BatchNorm> {
        let enc = self.encoder.iter().flat_map(|l| [l.entry.as_ref().and_then(|e| e.norm.batch_norm()), l.block.norm.batch_norm()]);
        let dec = self.decoder.iter().map(|l| l.block.norm.batch_norm());
        enc.chain(dec).flatten().collect()
    }

    /// Number of trainable parameters in a var store.
    pub fn parameter_count(vs: &nn::VarStore) -> i64 {
        vs.trainable_variables().iter().map(Tensor::numel).sum::<usize>() as i64
    }
}

impl ModuleT for ConvLstmUNet {
    /// A window from zero state: `[B, T, 1, H, W]` → logits `[B, T, 3, H, W]`.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.forward_window(xs, train)
    }
}

/// Precise BatchNorm (Wu & Johnson 2021, "Rethinking 'Batch' in BatchNorm",
/// §3.1): each BatchNorm layer's running statistics replaced by population
/// statistics pooled over many training batches at fixed weights. The
/// exponential average kept during training trails weights that are still
/// changing and follows whichever sequences the last few batches came from.
///
/// Feed frames with [`PreciseBatchNorm::step`], then [`PreciseBatchNorm::finish`].
#[derive(Debug, Default)]
pub struct PreciseBatchNorm {
    /// Per layer: sums of batch means, batch variances and squared batch means.
    sums: Vec<(Tensor, Tensor, Tensor)>,
    batches: usize,
}

impl PreciseBatchNorm {
    pub fn new() -> PreciseBatchNorm {
        PreciseBatchNorm::default()
    }

    /// One frame `x_t` `[B, 1, H, W]` through `net` in training mode (no
    /// gradients), recording each BatchNorm layer's batch mean and variance.
    pub fn step(&mut self, net: &ConvLstmUNet, x_t: &Tensor, state: &mut State) {
        let _guard = tch::no_grad_guard();
        let layers = net.batch_norms();
        // From zero, one update leaves the running statistics at exactly
        // momentum × the batch's statistics.
        for b in &layers {
            let _ = b.running_mean.shallow_clone().zero_();
            let _ = b.running_var.shallow_clone().zero_();
        }
        let _ = net.forward_step(x_t, state, true);
        for (i, b) in layers.iter().enumerate() {
            let mean = &b.running_mean / BN_MOMENTUM;
            let var = &b.running_var / BN_MOMENTUM;
            let sq = mean.square();
            if let Some((m, v, q)) = self.sums.get_mut(i) {
                *m += mean;
                *v += var;
                *q += sq;
            } else {
                self.sums.push((mean, var, sq));
            }
        }
        self.batches += 1;
    }

    /// Frames recorded so far.
    pub fn batches(&self) -> usize {
        self.batches
    }

    /// Sets each layer's running mean to the mean of the batch means, and its
    /// running variance to the mean batch variance plus the variance of the
    /// batch means (the law of total variance). Without any recorded frame,
    /// leaves the network as it is.
    pub fn finish(self, net: &ConvLstmUNet) {
        if self.batches == 0 {
            return;
        }
        let _guard = tch::no_grad_guard();
        let n = self.batches as f64;
        for (b, (m, v, q)) in net.batch_norms().iter().zip(self.sums) {
            let mean = m / n;
            let var = v / n + q / n - mean.square();
            b.running_mean.shallow_clone().copy_(&mean);
            b.running_var.shallow_clone().copy_(&var);
        }
    }
}

/// Softmax probabilities from logits, as f32 whatever the compute kind.
pub fn probabilities(logits: &Tensor) -> Tensor {
    logits.to_kind(Kind::Float).softmax(1, Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn net(cfg: &ModelConfig) -> (nn::VarStore, ConvLstmUNet) {
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let n = ConvLstmUNet::new(&vs.root(), cfg);
        (vs, n)
    }

    #[test]
    fn shapes_and_state() {
        for norm in [Norm::Pixel, Norm::Group, Norm::Batch, Norm::None] {
            let cfg = ModelConfig { depth: 2, base_width: 4, norm, ..Default::default() };
            let (_vs, n) = net(&cfg);
            let x = Tensor::randn([2, 1, 16, 24], (Kind::Float, Device::Cpu));
            let mut s = State::new();
            assert!(s.is_zero());
            let y = n.forward_step(&x, &mut s, false);
            assert_eq!(y.size(), [2, 3, 16, 24]);
            assert!(!s.is_zero());
            let w = n.forward_t(&Tensor::stack(&[&x, &x], 1), false);
            assert_eq!(w.size(), [2, 2, 3, 16, 24]);
        }
    }

    #[test]
    fn inference_without_autograd_matches_the_layers_run_apart() {
        // Under no_grad the BatchNorms are folded into their convolutions and
        // the LSTM gates run in place; with autograd on, every layer runs
        // as in training. Both must give the same logits and state.
        let cfg = ModelConfig { depth: 2, base_width: 4, ..Default::default() };
        assert!(cfg.lstm && cfg.norm == Norm::Batch);
        let (_vs, n) = net(&cfg);
        tch::no_grad(|| {
            for b in n.batch_norms() {
                let c = b.running_mean.size()[0];
                b.running_mean.shallow_clone().copy_(&(Tensor::randn([c], (Kind::Float, Device::Cpu)) * 0.5));
                b.running_var.shallow_clone().copy_(&(Tensor::rand([c], (Kind::Float, Device::Cpu)) + 0.5));
                b.ws.as_ref().unwrap().shallow_clone().copy_(&(Tensor::rand([c], (Kind::Float, Device::Cpu)) + 0.5));
                b.bs.as_ref().unwrap().shallow_clone().copy_(&Tensor::randn([c], (Kind::Float, Device::Cpu)));
            }
        });
        let xs = Tensor::randn([3, 2, 1, 16, 24], (Kind::Float, Device::Cpu));
        let (mut apart, mut fused) = (State::new(), State::new());
        for t in 0..3 {
            let a = n.forward_step(&xs.get(t), &mut apart, false);
            let f = tch::no_grad(|| n.forward_step(&xs.get(t), &mut fused, false));
            assert!(a.requires_grad() && !f.requires_grad(), "the two paths ran");
            let scale = f64::try_from(a.abs().max()).unwrap();
            assert!(scale > 0.1, "logits of size {scale}");
            let d = f64::try_from((a.detach() - &f).abs().max()).unwrap();
            assert!(d < 1e-5 * scale, "frame {t}: logits differ by {d} (largest {scale})");
            for ((ha, ca), (hf, cf)) in apart.levels.iter().flatten().zip(fused.levels.iter().flatten()) {
                let d = f64::try_from((ha.detach() - hf).abs().max()).unwrap().max(f64::try_from((ca.detach() - cf).abs().max()).unwrap());
                assert!(d < 1e-5, "frame {t}: state differs by {d}");
            }
        }
    }

    #[test]
    fn a_frozen_network_gives_the_same_inference() {
        for lstm in [true, false] {
            let cfg = ModelConfig { depth: 2, base_width: 4, lstm, ..Default::default() };
            let (_vs, mut n) = net(&cfg);
            tch::no_grad(|| {
                for b in n.batch_norms() {
                    let c = b.running_mean.size()[0];
                    b.running_var.shallow_clone().copy_(&(Tensor::rand([c], (Kind::Float, Device::Cpu)) + 0.5));
                }
            });
            let x = Tensor::randn([2, 3, 1, 16, 24], (Kind::Float, Device::Cpu));
            let before = tch::no_grad(|| n.forward_window(&x, false));
            n.freeze();
            let after = tch::no_grad(|| n.forward_window(&x, false));
            assert_eq!(f64::try_from((&before - &after).abs().max()).unwrap(), 0.0, "lstm {lstm}");
            // Training steps still run the layers apart, with batch statistics.
            let train = n.forward_window(&x, true);
            assert!(train.requires_grad());
            assert!(f64::try_from((train.detach() - &after).abs().max()).unwrap() > 1e-3);
        }
    }

    #[test]
    fn precise_batch_norm_makes_evaluation_match_training_on_its_batches() {
        let cfg = ModelConfig { depth: 2, base_width: 4, lstm: false, ..Default::default() };
        assert_eq!(cfg.norm, Norm::Batch);
        let (_vs, n) = net(&cfg);
        let x = Tensor::randn([2, 1, 64, 64], (Kind::Float, Device::Cpu)) * 3.0 + 5.0;
        let differ = |a: &Tensor, b: &Tensor| f64::try_from((a - b).abs().max()).unwrap();
        let train = tch::no_grad(|| n.forward_step(&x, &mut State::new(), true));
        let before = tch::no_grad(|| n.forward_step(&x, &mut State::new(), false));
        assert!(differ(&train, &before) > 0.1, "fresh running statistics should not fit this input");
        let mut p = PreciseBatchNorm::new();
        for _ in 0..3 {
            p.step(&n, &x, &mut State::new());
        }
        assert_eq!(p.batches(), 3);
        p.finish(&n);
        let after = tch::no_grad(|| n.forward_step(&x, &mut State::new(), false));
        // The population of three identical batches is the batch itself (up
        // to the unbiased variance the running statistics keep).
        let scale = f64::try_from(train.abs().max()).unwrap();
        let d = differ(&train, &after);
        assert!(d < 1e-2 * scale, "evaluation differs from training by {d} (outputs up to {scale})");
        let layers = n.batch_norms();
        assert_eq!(layers.len(), 3 * 2 + 2, "entry and block per encoder level (3), block per decoder level (2)");
    }

    #[test]
    fn precise_batch_norm_pools_batches_by_total_variance() {
        // The first BatchNorm sees conv(x); two batches with means far apart
        // give a running variance that includes the spread of their means.
        let cfg = ModelConfig { depth: 1, base_width: 2, lstm: false, ..Default::default() };
        let (_vs, n) = net(&cfg);
        let lo = Tensor::randn([2, 1, 16, 16], (Kind::Float, Device::Cpu));
        let hi = &lo + 10.0;
        let both = Tensor::cat(&[&lo, &hi], 0);
        let var_of = |xs: &Tensor| {
            let mut p = PreciseBatchNorm::new();
            for x in xs.split(2, 0) {
                p.step(&n, &x, &mut State::new());
            }
            p.finish(&n);
            n.batch_norms()[0].running_var.copy()
        };
        let pooled = var_of(&both);
        let mut whole = PreciseBatchNorm::new();
        whole.step(&n, &both, &mut State::new());
        whole.finish(&n);
        let direct = n.batch_norms()[0].running_var.copy();
        // Pooling two halves agrees with the statistics of the whole batch
        // (up to the unbiased correction of each half).
        let rel = f64::try_from(((&pooled - &direct).abs() / &direct).max()).unwrap();
        assert!(rel < 0.01, "pooled variance off by {rel} relative");
    }

    #[test]
    fn no_lstm_has_no_state_and_no_memory() {
        let cfg = ModelConfig { depth: 2, base_width: 4, lstm: false, ..Default::default() };
        let (_vs, n) = net(&cfg);
        let a = Tensor::randn([1, 1, 8, 8], (Kind::Float, Device::Cpu));
        let b = Tensor::randn([1, 1, 8, 8], (Kind::Float, Device::Cpu));
        let mut s = State::new();
        let first = n.forward_step(&b, &mut s, false);
        let _ = n.forward_step(&a, &mut s, false);
        let again = n.forward_step(&b, &mut s, false);
        assert!(s.is_zero());
        assert_eq!(f64::try_from((first - again).abs().max()).unwrap(), 0.0);
    }

    #[test]
    fn reset_items_zeroes_only_the_chosen_items() {
        let cfg = ModelConfig { depth: 1, base_width: 4, ..Default::default() };
        let (_vs, n) = net(&cfg);
        let x = Tensor::randn([2, 1, 8, 8], (Kind::Float, Device::Cpu));
        let mut s = State::new();
        let _ = n.forward_step(&x, &mut s, false);
        s.reset_items(&Tensor::from_slice(&[1.0f32, 0.0]));
        let (h, c) = s.levels[0].as_ref().unwrap();
        assert!(f64::try_from(h.select(0, 0).abs().sum(Kind::Float)).unwrap() > 0.0);
        assert_eq!(f64::try_from(h.select(0, 1).abs().sum(Kind::Float)).unwrap(), 0.0);
        assert_eq!(f64::try_from(c.select(0, 1).abs().sum(Kind::Float)).unwrap(), 0.0);
    }
}
