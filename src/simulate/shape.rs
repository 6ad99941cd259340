//! Cell outlines: star-convex nuclei (ellipse × Fourier modes) and rod capsules.
//!
//! An outline answers one question for a point: its normalised radius `ρ`,
//! below 1 inside the cell, 1 on the border, and growing outwards. Comparing
//! `ρ` between neighbours decides who owns a pixel where cells are pressed
//! together (see [`super::raster`]).
use std::f64::consts::PI;

/// A star-convex outline: an ellipse whose radius is modulated by a few
/// Fourier modes, `R(φ) = r_ellipse(φ) · (1 + Σ_k a_k cos(kφ + φ_k))`, as used by
/// StarDist (Schmidt et al., MICCAI 2018) to describe nuclei.
#[derive(Debug, Clone, PartialEq)]
pub struct StarShape {
    pub cx: f64,
    pub cy: f64,
    /// Orientation of the long axis, radians.
    pub angle: f64,
    /// Semi-axis along `angle` (pixels).
    pub a: f64,
    /// Semi-axis across `angle` (pixels).
    pub b: f64,
    /// Fourier modes `(k, amplitude, phase)`; the amplitudes should sum below ~0.5.
    pub modes: Vec<(u32, f64, f64)>,
    /// Thin protrusions at the two ends of the long axis (relative length; 0 = none),
    /// like the tails of migrating stem cells.
    pub tails: (f64, f64),
}

impl StarShape {
    /// A disc of radius `r` centred on (`cx`, `cy`).
    pub fn disc(cx: f64, cy: f64, r: f64) -> StarShape {
        StarShape { cx, cy, angle: 0.0, a: r, b: r, modes: Vec::new(), tails: (0.0, 0.0) }
    }

    /// Border radius in direction `phi` measured from the long axis.
    fn radius_local(&self, phi: f64) -> f64 {
        let (s, c) = phi.sin_cos();
        let re = self.a * self.b / ((self.b * c).powi(2) + (self.a * s).powi(2)).sqrt();
        let m: f64 = self.modes.iter().map(|&(k, amp, ph)| amp * (k as f64 * phi + ph).cos()).sum();
        let tail = self.tails.0 * c.max(0.0).powi(16) + self.tails.1 * (-c).max(0.0).powi(16);
        re * (1.0 + m).max(0.2) * (1.0 + tail)
    }

    /// Border radius in the image direction `theta` (radians, x towards y).
    pub fn radius_toward(&self, theta: f64) -> f64 {
        self.radius_local(theta - self.angle)
    }

    /// Normalised radius of point (`x`, `y`): distance to the centre over the
    /// border radius in that direction.
    pub fn rho(&self, x: f64, y: f64) -> f64 {
        let (dx, dy) = (x - self.cx, y - self.cy);
        let d = dx.hypot(dy);
        if d == 0.0 {
            return 0.0;
        }
        d / self.radius_toward(dy.atan2(dx))
    }

    /// Largest border radius (bounds the outline).
    pub fn max_radius(&self) -> f64 {
        self.a.max(self.b) * (1.0 + self.modes.iter().map(|m| m.1.abs()).sum::<f64>()) * (1.0 + self.tails.0.max(self.tails.1))
    }

    /// Area of the outline, by integrating `R(φ)²/2` over 256 directions.
    pub fn area(&self) -> f64 {
        let n = 256;
        (0..n).map(|i| self.radius_local(2.0 * PI * i as f64 / n as f64).powi(2)).sum::<f64>() * PI / n as f64
    }
}

/// A rod: the points within `radius` of a segment of half-length `half_len`,
/// pinched at its middle by `constriction` (0 = none, 1 = cut) as a bacterium
/// about to divide (the septum).
#[derive(Debug, Clone, PartialEq)]
pub struct Capsule {
    pub cx: f64,
    pub cy: f64,
    pub angle: f64,
    pub half_len: f64,
    pub radius: f64,
    pub constriction: f64,
}

impl Capsule {
    /// Unit vector along the rod's axis.
    pub fn axis(&self) -> (f64, f64) {
        let (s, c) = self.angle.sin_cos();
        (c, s)
    }

    /// The segment's two end points.
    pub fn ends(&self) -> ((f64, f64), (f64, f64)) {
        let (ux, uy) = self.axis();
        let h = self.half_len;
        ((self.cx - h * ux, self.cy - h * uy), (self.cx + h * ux, self.cy + h * uy))
    }

    /// Normalised radius of point (`x`, `y`): distance to the axis segment over
    /// the local rod radius.
    pub fn rho(&self, x: f64, y: f64) -> f64 {
        let (ux, uy) = self.axis();
        let (dx, dy) = (x - self.cx, y - self.cy);
        let s = (dx * ux + dy * uy).clamp(-self.half_len, self.half_len);
        let d = (dx - s * ux).hypot(dy - s * uy);
        let pinch = 1.0 - self.constriction.clamp(0.0, 0.9) * (-(s / self.radius).powi(2)).exp();
        d / (self.radius * pinch)
    }

    pub fn max_radius(&self) -> f64 {
        self.half_len + self.radius
    }

    /// Total length, cap to cap.
    pub fn length(&self) -> f64 {
        2.0 * (self.half_len + self.radius)
    }
}

/// The outline of one simulated cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Outline {
    Star(StarShape),
    Capsule(Capsule),
}

impl Outline {
    pub fn rho(&self, x: f64, y: f64) -> f64 {
        match self {
            Outline::Star(s) => s.rho(x, y),
            Outline::Capsule(c) => c.rho(x, y),
        }
    }

    pub fn centre(&self) -> (f64, f64) {
        match self {
            Outline::Star(s) => (s.cx, s.cy),
            Outline::Capsule(c) => (c.cx, c.cy),
        }
    }

    /// Orientation of the long axis (radians).
    pub fn angle(&self) -> f64 {
        match self {
            Outline::Star(s) => s.angle,
            Outline::Capsule(c) => c.angle,
        }
    }

    /// Inclusive pixel bounding box `(y0, y1, x0, x1)` clipped to an
    /// `h`×`w` frame, or `None` when the outline lies wholly outside it.
    pub fn pixel_box(&self, h: usize, w: usize) -> Option<(usize, usize, usize, usize)> {
        let (cx, cy) = self.centre();
        let r = match self {
            Outline::Star(s) => s.max_radius(),
            Outline::Capsule(c) => c.max_radius(),
        } + 1.0;
        let clip = |lo: f64, hi: f64, n: usize| -> Option<(usize, usize)> {
            if hi < 0.0 || lo > (n - 1) as f64 {
                return None;
            }
            Some((lo.max(0.0).floor() as usize, (hi.ceil() as usize).min(n - 1)))
        };
        let (y0, y1) = clip(cy - r, cy + r, h)?;
        let (x0, x1) = clip(cx - r, cx + r, w)?;
        Some((y0, y1, x0, x1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn disc_rho_is_distance_over_radius() {
        let d = StarShape::disc(10.0, 10.0, 4.0);
        assert_eq!(d.rho(10.0, 10.0), 0.0);
        assert!((d.rho(14.0, 10.0) - 1.0).abs() < 1e-12);
        assert!((d.rho(10.0, 2.0) - 2.0).abs() < 1e-12);
        assert!((d.area() - PI * 16.0).abs() < 1e-6);
    }

    #[test]
    fn ellipse_axes_follow_the_angle() {
        let e = StarShape { cx: 0.0, cy: 0.0, angle: PI / 2.0, a: 6.0, b: 2.0, modes: vec![], tails: (0.0, 0.0) };
        assert!((e.rho(0.0, 6.0) - 1.0).abs() < 1e-9, "long axis now points along y");
        assert!((e.rho(2.0, 0.0) - 1.0).abs() < 1e-9);
        assert!((e.area() - PI * 12.0).abs() < 1e-6);
    }

    #[test]
    fn capsule_pinches_at_the_middle() {
        let c = Capsule { cx: 0.0, cy: 0.0, angle: 0.0, half_len: 6.0, radius: 3.0, constriction: 0.5 };
        assert!((c.rho(0.0, 1.5) - 1.0).abs() < 1e-9, "waist radius 1.5");
        assert!(c.rho(6.0, 2.9) < 1.0, "full radius near the pole");
        assert!((c.rho(9.0, 0.0) - 1.0).abs() < 0.01, "cap");
        assert_eq!(c.length(), 18.0);
    }

    #[test]
    fn pixel_box_clips_and_rejects_outside() {
        let o = Outline::Star(StarShape::disc(1.0, 1.0, 3.0));
        assert_eq!(o.pixel_box(10, 10), Some((0, 5, 0, 5)));
        assert_eq!(Outline::Star(StarShape::disc(-20.0, 5.0, 3.0)).pixel_box(10, 10), None);
    }

    #[test]
    fn a_tail_lengthens_one_end_only() {
        let s = StarShape { cx: 0.0, cy: 0.0, angle: 0.0, a: 6.0, b: 3.0, modes: vec![], tails: (0.5, 0.0) };
        assert!((s.radius_toward(0.0) - 9.0).abs() < 1e-9);
        assert!((s.radius_toward(PI) - 6.0).abs() < 1e-9);
        assert!((s.radius_toward(PI / 2.0) - 3.0).abs() < 1e-9);
        assert!(s.max_radius() >= 9.0);
    }

    proptest! {
        /// Star-convexity: along any ray from the centre ρ grows with distance.
        #[test]
        fn star_rho_grows_along_rays(a in 2.0..10.0f64, b in 2.0..10.0f64, amp in 0.0..0.15f64,
                                     ph in 0.0..6.3f64, theta in 0.0..6.3f64, tail in 0.0..1.0f64) {
            let s = StarShape { cx: 0.0, cy: 0.0, angle: 0.3, a, b, modes: vec![(3, amp, ph), (5, amp / 2.0, 1.0)], tails: (tail, 0.0) };
            let (dy, dx) = theta.sin_cos();
            let mut last = 0.0;
            for i in 1..40 {
                let r = i as f64 * 0.5;
                let p = s.rho(r * dx, r * dy);
                prop_assert!(p > last);
                last = p;
            }
            prop_assert!(s.max_radius() >= s.radius_toward(theta) - 1e-9);
        }
    }
}
