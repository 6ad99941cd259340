//! The lineage forest: one tree per founding cell, time downwards, divisions as forks; laid out, then drawn as SVG or PNG.
use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::colour::track_colour;
use super::{draw_err, DrawResult, FONT};
use crate::ctc::TrackRecord;

/// One track placed in the drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub label: u32,
    pub begin: usize,
    pub end: usize,
    /// The parent track's label, 0 for a founder (or a parent not in the file).
    pub parent: u32,
    /// Horizontal position, in leaf slots.
    pub x: f64,
    /// Which tree (0-based, founders ordered by first frame, then label).
    pub tree: usize,
}

/// The laid-out forest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lineage {
    /// In drawing order: each tree's tracks depth-first, children by label.
    pub branches: Vec<Branch>,
    /// Leaf slots in all (trees are separated by one empty slot).
    pub slots: usize,
    pub trees: usize,
    /// First and last frame of any track.
    pub span: (usize, usize),
}

impl Lineage {
    /// Tracks that begin as a daughter of another track.
    pub fn divisions(&self) -> usize {
        let mut daughters: HashMap<u32, usize> = HashMap::new();
        for b in self.branches.iter().filter(|b| b.parent != 0) {
            *daughters.entry(b.parent).or_default() += 1;
        }
        daughters.values().filter(|&&n| n >= 2).count()
    }
}

/// Lays out the lineage forest of a track file as a dendrogram: each track
/// is a vertical line from its first to its last frame; leaves (tracks
/// without daughters) take consecutive slots in depth-first order, and a
/// parent sits midway between its first and last daughter, so no lines
/// cross (the layered layout of Reingold & Tilford, "Tidier drawings of
/// trees", IEEE TSE 1981, with leaves packed one per slot). Founders are
/// tracks with parent 0 or with a parent missing from the file.
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::render::lineage::layout;
/// let l = layout(&[TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 9, 1), TrackRecord::new(3, 5, 9, 1)]);
/// let x: Vec<f64> = l.branches.iter().map(|b| b.x).collect();
/// assert_eq!(x, vec![0.5, 0.0, 1.0]); // the mother above her two daughters
/// ```
pub fn layout(tracks: &[TrackRecord]) -> Lineage {
    let known: HashMap<u32, &TrackRecord> = tracks.iter().map(|t| (t.label, t)).collect();
    let mut children: HashMap<u32, Vec<&TrackRecord>> = HashMap::new();
    let mut roots = Vec::new();
    for t in tracks {
        if t.parent != 0 && known.contains_key(&t.parent) && t.parent != t.label {
            children.entry(t.parent).or_default().push(t);
        } else {
            roots.push(t);
        }
    }
    for c in children.values_mut() {
        c.sort_by_key(|t| t.label);
    }
    roots.sort_by_key(|t| (t.begin, t.label));

    let mut out = Lineage::default();
    let mut next_slot = 0usize;
    for (tree, root) in roots.iter().enumerate() {
        if tree > 0 {
            next_slot += 1;
        }
        // Iterative post-order: a parent's x needs its children's.
        let first = out.branches.len();
        let mut order = Vec::new();
        let mut stack = vec![*root];
        while let Some(t) = stack.pop() {
            order.push(t);
            if let Some(c) = children.get(&t.label) {
                stack.extend(c.iter().rev());
            }
        }
        // `order` is pre-order; x of leaves follows it, parents after children.
        let mut x: HashMap<u32, f64> = HashMap::new();
        for t in &order {
            if !children.contains_key(&t.label) {
                x.insert(t.label, next_slot as f64);
                next_slot += 1;
            }
        }
        for t in order.iter().rev() {
            if let Some(c) = children.get(&t.label) {
                let (a, b) = (x[&c[0].label], x[&c[c.len() - 1].label]);
                x.insert(t.label, (a + b) / 2.0);
            }
        }
        for t in &order {
            out.branches.push(Branch { label: t.label, begin: t.begin, end: t.end, parent: t.parent, x: x[&t.label], tree });
        }
        debug_assert!(out.branches.len() > first);
    }
    out.slots = next_slot;
    out.trees = roots.len();
    out.span = (
        tracks.iter().map(|t| t.begin).min().unwrap_or(0),
        tracks.iter().map(|t| t.end).max().unwrap_or(0),
    );
    out
}

/// A drawing size for `l`: about 16 px per leaf slot (narrower when there
/// are many, at most ~2400 px wide) and 12 px per frame (at most ~2000 px).
pub fn picture_size(l: &Lineage) -> (u32, u32) {
    let slots = l.slots.max(1) as f64;
    let slot_px = (2300.0 / slots).clamp(3.0, 16.0);
    let frames = (l.span.1 - l.span.0 + 1) as f64;
    let frame_px = (1900.0 / frames).clamp(2.0, 12.0);
    let w = (slots * slot_px + 110.0).max(480.0);
    let h = (frames * frame_px + 120.0).max(360.0);
    (w.round() as u32, h.round() as u32)
}

/// Draws the lineage forest: time (frame) downwards on the left axis, each
/// track a vertical line in its track colour, a fork (grey bar and dot) at
/// each division, and track labels above their lines when there is room.
pub fn draw_lineage<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, l: &Lineage, title: &str) -> DrawResult {
    let (t0, t1) = (l.span.0 as f64, l.span.1 as f64);
    let slots = l.slots.max(1) as f64;
    // Time runs downwards: the chart plots −t.
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(8)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.8..slots - 0.2, -(t1 + 0.8)..-(t0 - 0.8))
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_desc("frame")
        .y_labels(super::plots::whole_labels(t1 - t0))
        .y_label_formatter(&|v| format!("{}", -v.round() as i64))
        .y_label_style((FONT, 13))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(draw_err)?;
    let x_of: HashMap<u32, &Branch> = l.branches.iter().map(|b| (b.label, b)).collect();
    let grey = RGBColor(110, 110, 110);
    for b in &l.branches {
        let t_begin = b.begin as f64;
        if let Some(p) = x_of.get(&b.parent) {
            // Fork: from the mother's last frame across to the daughter, then down.
            let y = -(p.end as f64);
            chart
                .draw_series(LineSeries::new([(p.x, y), (b.x, y), (b.x, -t_begin)], grey.stroke_width(1)))
                .map_err(draw_err)?;
        }
    }
    for b in &l.branches {
        let c = track_colour(b.label, 0.72);
        let colour = RGBColor(c.0[0], c.0[1], c.0[2]);
        let (y0, y1) = (-(b.begin as f64), -(b.end as f64));
        chart
            .draw_series(LineSeries::new([(b.x, y0 + 0.25), (b.x, y1 - 0.25)], colour.stroke_width(3)))
            .map_err(draw_err)?;
    }
    // A dot at each division; a track with one daughter only resumes after a gap.
    let mut daughters: HashMap<u32, usize> = HashMap::new();
    for b in l.branches.iter().filter(|b| x_of.contains_key(&b.parent)) {
        *daughters.entry(b.parent).or_default() += 1;
    }
    let mothers: Vec<&Branch> = l.branches.iter().filter(|b| daughters.get(&b.label).is_some_and(|&n| n >= 2)).collect();
    chart
        .draw_series(mothers.iter().map(|b| Circle::new((b.x, -(b.end as f64)), 3, grey.filled())))
        .map_err(draw_err)?;
    // Labels when a slot is wide enough for about three digits.
    let (px_w, _) = root.dim_in_pixel();
    if f64::from(px_w) / slots >= 14.0 {
        let style = TextStyle::from((FONT, 11).into_font()).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
        for b in &l.branches {
            chart
                .draw_series(std::iter::once(Text::new(b.label.to_string(), (b.x, -(b.begin as f64) + 0.35), style.clone())))
                .map_err(draw_err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_records_one_division() {
        let l = layout(&[TrackRecord::new(2, 5, 9, 1), TrackRecord::new(1, 0, 4, 0), TrackRecord::new(3, 5, 9, 1)]);
        assert_eq!(l.trees, 1);
        assert_eq!(l.slots, 2);
        assert_eq!(l.span, (0, 9));
        assert_eq!(l.divisions(), 1);
        let by: HashMap<u32, &Branch> = l.branches.iter().map(|b| (b.label, b)).collect();
        assert_eq!((by[&1].x, by[&2].x, by[&3].x), (0.5, 0.0, 1.0));
        assert_eq!(l.branches[0].label, 1, "the mother is drawn first");
    }

    #[test]
    fn forest_of_founders_with_gaps_between_trees() {
        // Founder 5 appears later; 9's parent 42 is not in the file, so 9 founds a tree.
        let l = layout(&[TrackRecord::new(1, 0, 2, 0), TrackRecord::new(2, 3, 6, 1), TrackRecord::new(3, 3, 4, 1), TrackRecord::new(4, 5, 6, 3), TrackRecord::new(6, 5, 6, 3), TrackRecord::new(5, 2, 6, 0), TrackRecord::new(9, 1, 6, 42)]);
        assert_eq!(l.trees, 3);
        let by: HashMap<u32, &Branch> = l.branches.iter().map(|b| (b.label, b)).collect();
        // Tree 0: leaves 2, 4, 6 in slots 0, 1, 2; 3 over 4 and 6; 1 over 2 and 3.
        assert_eq!(by[&2].x, 0.0);
        assert_eq!((by[&4].x, by[&6].x, by[&3].x), (1.0, 2.0, 1.5));
        assert_eq!(by[&1].x, 0.75);
        // Trees ordered by first frame (9 begins at 1, 5 at 2), one empty slot between trees.
        assert_eq!((by[&9].tree, by[&9].x), (1, 4.0));
        assert_eq!((by[&5].tree, by[&5].x), (2, 6.0));
        assert_eq!(l.slots, 7);
        assert_eq!(l.divisions(), 2);
    }

    #[test]
    fn empty_and_self_parented_records_do_not_hang() {
        assert_eq!(layout(&[]).slots, 0);
        let l = layout(&[TrackRecord::new(1, 0, 3, 1)]);
        assert_eq!((l.trees, l.slots), (1, 1));
    }

    #[test]
    fn draws_as_svg_and_png() {
        let l = layout(&[TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 9, 1), TrackRecord::new(3, 5, 9, 1)]);
        let (w, h) = picture_size(&l);
        let svg = super::super::draw_svg(w, h, |root| draw_lineage(root, &l, "lineage")).unwrap();
        assert!(svg.starts_with("<svg") && super::super::plots::tests::has_text(&svg, "lineage"));
        assert!(super::super::plots::tests::has_text(&svg, "3"), "track labels");
        // One line per track and one fork per daughter.
        assert!(svg.matches("<polyline").count() >= 5, "{} lines", svg.matches("<polyline").count());
        let png = super::super::draw_bitmap(w, h, |root| draw_lineage(root, &l, "lineage")).unwrap();
        assert_eq!(png.dimensions(), (w, h));
        let c = track_colour(2, 0.72);
        assert!(png.pixels().any(|p| *p == c), "track 2's colour appears");
    }
}
