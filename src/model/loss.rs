//! The training loss: class-weighted cross-entropy plus soft Dice on the cell class (and, optionally, on the foreground).
use tch::{Kind, Tensor};

use super::targets::{BACKGROUND, CELL};

/// Loss of logits `[N, 3, H, W]` against classes `[N, H, W]` (i64) with
/// pixel weights `[N, H, W]` (0 = unannotated): cross-entropy weighted by
/// `class_weights[class] · pixel weight`, averaged over that weight, plus
/// `dice_weight · (1 − soft Dice)` of the cell class (Milletari et al. 2016),
/// over weighted pixels, plus `foreground_dice_weight · (1 − soft Dice)` of
/// the foreground (`1 − p(background)` against cell and boundary pixels).
/// `None` when no pixel has weight.
pub fn loss(logits: &Tensor, classes: &Tensor, weight: &Tensor, class_weights: &[f64; 3], dice_weight: f64, foreground_dice_weight: f64) -> Option<Tensor> {
    let annotated = f64::try_from(weight.sum(Kind::Float)).ok()?;
    if annotated <= 0.0 {
        return None;
    }
    let logp = logits.to_kind(Kind::Float).log_softmax(1, Kind::Float);
    let nll = -logp.gather(1, &classes.unsqueeze(1), false).squeeze_dim(1);
    let cw = Tensor::from_slice(&class_weights.map(|w| w as f32)).to_device(logits.device());
    let w = weight * cw.index_select(0, &classes.flatten(0, -1)).view_as(classes);
    let mut total = (&nll * &w).sum(Kind::Float) / (w.sum(Kind::Float) + 1e-8);
    // Soft Dice of predicted probabilities `p` against the 0/1 truth `t`, over weighted pixels.
    let soft_dice = |p: Tensor, t: Tensor| {
        let (p, t) = (p * weight, t * weight);
        ((&p * &t).sum(Kind::Float) * 2.0 + 1.0) / (p.sum(Kind::Float) + t.sum(Kind::Float) + 1.0)
    };
    if dice_weight != 0.0 {
        let dice = soft_dice(logp.select(1, CELL as i64).exp(), classes.eq(CELL as i64).to_kind(Kind::Float));
        total += (1.0 - dice) * dice_weight;
    }
    if foreground_dice_weight != 0.0 {
        let dice = soft_dice(1.0 - logp.select(1, BACKGROUND as i64).exp(), classes.ne(BACKGROUND as i64).to_kind(Kind::Float));
        total += (1.0 - dice) * foreground_dice_weight;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn classes() -> Tensor {
        Tensor::from_slice(&[0i64, 1, 2, 1]).view([1, 2, 2])
    }

    #[test]
    fn confident_right_answer_costs_almost_nothing() {
        let c = classes();
        let logits = c.onehot(3).permute([0, 3, 1, 2]).to_kind(Kind::Float) * 20.0;
        let w = Tensor::ones([1, 2, 2], (Kind::Float, Device::Cpu));
        let l = f64::try_from(loss(&logits, &c, &w, &[1.0, 1.0, 3.0], 1.0, 0.0).unwrap()).unwrap();
        assert!(l < 1e-6, "{l}");
        let onehot = c.onehot(3);
        let wrong = (onehot.ones_like() - &onehot).permute([0, 3, 1, 2]).to_kind(Kind::Float) * 20.0;
        assert!(f64::try_from(loss(&wrong, &c, &w, &[1.0, 1.0, 3.0], 1.0, 0.0).unwrap()).unwrap() > 10.0);
    }

    #[test]
    fn unannotated_pixels_do_not_count() {
        let c = classes();
        let w = Tensor::from_slice(&[1.0f32, 1.0, 0.0, 0.0]).view([1, 2, 2]);
        let logits = Tensor::zeros([1, 3, 2, 2], (Kind::Float, Device::Cpu));
        let base = f64::try_from(loss(&logits, &c, &w, &[1.0; 3], 0.0, 0.0).unwrap()).unwrap();
        // Changing the logits at the weight-0 pixels changes nothing.
        let _ = logits.narrow(2, 1, 1).narrow(1, 0, 1).fill_(7.0);
        let after = f64::try_from(loss(&logits, &c, &w, &[1.0; 3], 0.0, 0.0).unwrap()).unwrap();
        assert!((base - 3f64.ln()).abs() < 1e-6 && (after - base).abs() < 1e-9);
        assert!(loss(&logits, &c, &w.zeros_like(), &[1.0; 3], 1.0, 0.0).is_none());
    }

    #[test]
    fn foreground_dice_counts_a_boundary_pixel_called_background_not_one_called_cell() {
        let c = classes(); // background, cell, boundary, cell
        let w = Tensor::ones([1, 2, 2], (Kind::Float, Device::Cpu));
        let with = |boundary_as: i64| {
            let called = Tensor::from_slice(&[0i64, 1, boundary_as, 1]).view([1, 2, 2]);
            let logits = called.onehot(3).permute([0, 3, 1, 2]).to_kind(Kind::Float) * 20.0;
            let plain = f64::try_from(loss(&logits, &c, &w, &[1.0; 3], 0.0, 0.0).unwrap()).unwrap();
            let fg = f64::try_from(loss(&logits, &c, &w, &[1.0; 3], 0.0, 1.0).unwrap()).unwrap();
            fg - plain
        };
        // Two of three foreground pixels found: Dice (2·2 + 1) / (2 + 3 + 1) = 5/6.
        assert!((with(0) - 1.0 / 6.0).abs() < 1e-4, "{}", with(0));
        assert!(with(1).abs() < 1e-4, "{}", with(1));
    }
}
