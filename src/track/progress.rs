//! What `track` tells its user as it runs: a progress bar or lines, and the summary it ends with.
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use super::stages::TrackSummary;

/// Reports progress: a bar with frames per second on a terminal, a line every
/// few seconds otherwise, nothing with `--quiet`.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    total: usize,
    done: usize,
    start: Instant,
    last_line: Instant,
}

impl Progress {
    /// `total` 0: not known (`--follow`).
    pub(super) fn new(total: usize, quiet: bool) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let (b, template) = if total == 0 {
                (indicatif::ProgressBar::new_spinner(), "{spinner} {pos} frames  {per_sec}  following")
            } else {
                (indicatif::ProgressBar::new(total as u64), "{bar:40} {pos}/{len} frames  {per_sec}  eta {eta}")
            };
            b.set_style(indicatif::ProgressStyle::with_template(template).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
            b
        });
        let now = Instant::now();
        Progress { bar, plain: !quiet && !tty, total, done: 0, start: now, last_line: now }
    }
    pub(super) fn frame(&mut self) {
        self.done += 1;
        if let Some(b) = &self.bar {
            b.inc(1);
        } else if self.plain && (self.last_line.elapsed().as_secs_f64() > 5.0 || self.done == self.total) {
            self.last_line = Instant::now();
            let fps = self.done as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
            if self.total == 0 {
                // A closed stderr is ignored: the run goes on to publish its result.
                let _ = writeln!(std::io::stderr(), "track: {} frames, {fps:.1} frames/s, following", self.done);
            } else {
                let _ = writeln!(std::io::stderr(), "track: {}/{} frames, {fps:.1} frames/s", self.done, self.total);
            }
        }
    }
    pub(super) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The line `track` ends with: what went into the result in `out`.
pub(super) fn print_summary(out: &Path, s: &TrackSummary) {
    // "1 division", "2 divisions".
    let n = |count: usize, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
    let mut extra = String::new();
    if s.merges_split > 0 {
        extra += &format!(", {} split", n(s.merges_split, "merged object", "merged objects"));
    }
    if !s.pruned.is_empty() {
        extra += &format!(", {} pruned", n(s.pruned.len(), "brief branch", "brief branches"));
    }
    if s.backdated > 0 {
        extra += &format!(", {} a frame earlier", n(s.backdated, "division moved", "divisions moved"));
    }
    // The result is in place: a reader that has gone (`| head`) changes nothing.
    let _ = writeln!(
        std::io::stdout(),
        "{}: {} linked into {} ({}, {} resumed after a gap or merge{extra})",
        out.display(),
        n(s.frames, "frame", "frames"),
        n(s.tracks, "track", "tracks"),
        n(s.divisions, "division", "divisions"),
        s.resumed,
    );
}
