//! The training history: one CSV row per step (`MODEL.history.csv`), read back and drawn as curves (`MODEL.curves.png`).
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// The header of `MODEL.history.csv`.
pub const HISTORY_HEADER: &str = "epoch,step,loss,val_seg,lr,seconds";

/// One step of a training run, as written to `MODEL.history.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryRow {
    /// Validation period the step belongs to (`⌈step / val_every⌉`).
    pub epoch: usize,
    pub step: usize,
    /// Training loss of the step (`None` when no pixel of its batch had truth).
    pub loss: Option<f64>,
    /// Validation SEG, on the steps that end a validation period and had validation frames.
    pub val_seg: Option<f64>,
    /// Learning rate after the step.
    pub lr: f64,
    /// Training time so far, across resumed runs.
    pub seconds: f64,
}

impl HistoryRow {
    /// The row as a CSV line (no newline); empty fields for `None`.
    pub fn to_csv(&self) -> String {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        format!("{},{},{},{},{},{:.3}", self.epoch, self.step, opt(self.loss), opt(self.val_seg), self.lr, self.seconds)
    }
}

/// Parses a history (header [`HISTORY_HEADER`], then one row per step);
/// `name` names the source in errors.
pub fn parse_history(text: &str, name: &str) -> Result<Vec<HistoryRow>> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, h)) if h.trim() == HISTORY_HEADER => {}
        Some((_, h)) => bail!("{name}: header {h:?} is not {HISTORY_HEADER:?}"),
        None => bail!("{name}: empty, expected the header {HISTORY_HEADER:?}"),
    }
    lines
        .map(|(i, l)| {
            let bad = |what: &str| anyhow::anyhow!("{name}: line {}: {what} in {l:?}", i + 1);
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            if f.len() != 6 {
                return Err(bad(&format!("{} fields instead of 6", f.len())));
            }
            let opt = |s: &str, what: &str| if s.is_empty() { Ok(None) } else { s.parse::<f64>().map(Some).map_err(|_| bad(what)) };
            Ok(HistoryRow {
                epoch: f[0].parse().map_err(|_| bad("bad epoch"))?,
                step: f[1].parse().map_err(|_| bad("bad step"))?,
                loss: opt(f[2], "bad loss")?,
                val_seg: opt(f[3], "bad val_seg")?,
                lr: f[4].parse().map_err(|_| bad("bad lr"))?,
                seconds: f[5].parse().map_err(|_| bad("bad seconds"))?,
            })
        })
        .collect()
}

/// Reads `MODEL.history.csv`.
pub fn read_history(path: &Path) -> Result<Vec<HistoryRow>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read the history", path.display()))?;
    parse_history(&text, &path.display().to_string())
}

/// Opens the history for writing: a fresh file with its header, or, with
/// `append` and an existing file, the end of it (a resumed run), its rows
/// past `resumed_at` dropped first: the steps a killed run took after its
/// last checkpoint, which the resumed run takes again.
pub(crate) fn open_history(path: &Path, append: bool, resumed_at: usize) -> Result<std::io::BufWriter<std::fs::File>> {
    let exists = path.exists();
    if append && exists {
        let rows = read_history(path)?;
        if rows.iter().any(|r| r.step > resumed_at) {
            let mut text = format!("{HISTORY_HEADER}\n");
            for r in rows.iter().filter(|r| r.step <= resumed_at) {
                text.push_str(&r.to_csv());
                text.push('\n');
            }
            crate::ctc::write_atomic(path, |w| w.write_all(text.as_bytes()))?;
        }
    }
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(path)
        .with_context(|| format!("{}: cannot write the history", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    if !(append && exists) {
        writeln!(w, "{HISTORY_HEADER}")?;
    }
    Ok(w)
}

/// Size of `MODEL.curves.png` in pixels.
pub const CURVES_SIZE: (u32, u32) = (900, 640);

/// Draws `rows` ([`crate::render::plots::draw_training_curves`]) and writes
/// the PNG to `path` atomically.
pub fn write_curves(path: &Path, rows: &[HistoryRow]) -> Result<()> {
    let img = crate::render::draw_bitmap(CURVES_SIZE.0, CURVES_SIZE.1, |root| crate::render::plots::draw_training_curves(root, rows))
        .map_err(|e| anyhow::anyhow!("{}: cannot draw the training curves: {e}", path.display()))?;
    let png = crate::render::png_bytes(&img);
    crate::ctc::write_atomic(path, |w| w.write_all(&png))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run killed after its last checkpoint wrote rows the resumed run
    /// writes again: they are dropped on resuming, not kept twice.
    #[test]
    fn resuming_drops_the_rows_past_the_checkpoint() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("m.history.csv");
        let row = |step| HistoryRow { epoch: 1, step, loss: Some(0.5), val_seg: None, lr: 1e-3, seconds: step as f64 };
        let mut w = open_history(&path, false, 0).unwrap();
        for step in 1..=10 {
            writeln!(w, "{}", row(step).to_csv()).unwrap();
        }
        drop(w);
        let mut w = open_history(&path, true, 6).unwrap();
        writeln!(w, "{}", row(7).to_csv()).unwrap();
        drop(w);
        let steps: Vec<usize> = read_history(&path).unwrap().iter().map(|r| r.step).collect();
        assert_eq!(steps, (1..=7).collect::<Vec<_>>());
    }

    #[test]
    fn rows_round_trip_and_bad_rows_are_named() {
        let rows = [
            HistoryRow { epoch: 1, step: 1, loss: Some(0.9), val_seg: None, lr: 1e-3, seconds: 0.5 },
            HistoryRow { epoch: 1, step: 2, loss: None, val_seg: Some(0.25), lr: 5e-4, seconds: 1.0 },
        ];
        let text = format!("{HISTORY_HEADER}\n{}\n{}\n", rows[0].to_csv(), rows[1].to_csv());
        assert_eq!(parse_history(&text, "h.csv").unwrap(), rows);
        assert_eq!(parse_history(HISTORY_HEADER, "h.csv").unwrap(), vec![]);
        let e = parse_history(&format!("{HISTORY_HEADER}\n1,2,x,,0.1,3\n"), "h.csv").unwrap_err().to_string();
        assert!(e.contains("h.csv: line 2: bad loss"), "{e}");
        let e = parse_history("step,loss\n", "h.csv").unwrap_err().to_string();
        assert!(e.contains("h.csv: header"), "{e}");
    }

    #[test]
    fn curves_png_is_written() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.curves.png");
        let rows: Vec<HistoryRow> =
            (1..=6usize).map(|s| HistoryRow { epoch: s.div_ceil(3), step: s, loss: Some(1.0 / s as f64), val_seg: (s % 3 == 0).then_some(0.1 * s as f64), lr: 1e-3, seconds: s as f64 }).collect();
        write_curves(&p, &rows).unwrap();
        let img = image::open(&p).unwrap();
        assert_eq!((img.width(), img.height()), CURVES_SIZE);
    }
}
