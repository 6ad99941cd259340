//! Checking a CTC result folder against every consistency rule of the format.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::error::{CtcError, Result};
use super::sequence::ResultDir;
use super::tiff_io;
use super::track_file::TrackRecord;

/// One broken rule, with the frame and label it concerns where there is one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub frame: Option<usize>,
    pub label: Option<u32>,
    pub what: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.frame, self.label) {
            (Some(t), Some(l)) => write!(f, "frame {t}, label {l}: {}", self.what),
            (Some(t), None) => write!(f, "frame {t}: {}", self.what),
            (None, Some(l)) => write!(f, "label {l}: {}", self.what),
            (None, None) => write!(f, "{}", self.what),
        }
    }
}

/// Runs of consecutive frames in which a label was seen.
#[derive(Default)]
struct Presence {
    runs: Vec<(usize, usize)>,
}

impl Presence {
    fn add(&mut self, t: usize) {
        match self.runs.last_mut() {
            Some((_, e)) if *e + 1 == t => *e = t,
            _ => self.runs.push((t, t)),
        }
    }
}

/// Validates the result in `dir` (masks + `res_track.txt`). Errors only when
/// the folder cannot be read at all; broken rules come back as violations.
pub fn validate_result(dir: &Path) -> Result<Vec<Violation>> {
    let res = ResultDir::open(dir)?;
    let mut out = Vec::new();
    let mut frames = Vec::new();
    for (t, path) in &res.masks.files {
        let (mask, bits) = tiff_io::read_mask_with_bits(path)?;
        if bits > 16 {
            out.push(Violation { frame: Some(*t), label: None, what: format!("{} is {bits}-bit; CTC masks are 16-bit", path.display()) });
        }
        let mut seen = std::collections::HashSet::new();
        let mut labels: Vec<u32> = mask.iter().copied().filter(|&v| v != 0 && seen.insert(v)).collect();
        labels.sort_unstable();
        frames.push((*t, labels));
    }
    out.extend(validate_tracks(&res.tracks, frames.iter().map(|(t, l)| (*t, l.as_slice()))));
    Ok(out)
}

/// Checks a track list against the labels present in each frame's mask:
/// `frames` yields (time, labels in that frame) for every frame of the
/// sequence, in time order. Finds the same violations as [`validate_result`]
/// apart from the 16-bit check, for callers that have already read the masks.
pub fn validate_tracks<'a>(tracks: &[TrackRecord], frames: impl IntoIterator<Item = (usize, &'a [u32])>) -> Vec<Violation> {
    let mut presence: BTreeMap<u32, Presence> = BTreeMap::new();
    let mut span: Option<(usize, usize)> = None;
    for (t, labels) in frames {
        span = Some(span.map_or((t, t), |(a, _)| (a, t)));
        for &l in labels {
            presence.entry(l).or_default().add(t);
        }
    }
    let (first, last) = span.unwrap_or((0, 0));
    check_tracks(tracks, &presence, first, last)
}

/// The faults of a track list that need no mask to find, for a sequence
/// of frames `first`–`last`: a track outside them, a parent that is not
/// listed, and a parent that does not end before its child begins (which
/// also rules out a cycle of parents). What `render`, `report` and
/// `evaluate` (of the truth's `man_track.txt`) check before they draw or
/// score a lineage.
///
/// ```
/// use cellstream::ctc::{lineage_violations, TrackRecord};
/// let ok = [TrackRecord::new(1, 0, 3, 0), TrackRecord::new(2, 4, 5, 1)];
/// assert!(lineage_violations(&ok, 0, 5).is_empty());
/// let cycle = [TrackRecord::new(1, 0, 5, 2), TrackRecord::new(2, 0, 5, 1)];
/// assert_eq!(lineage_violations(&cycle, 0, 5).len(), 2);
/// let orphan = [TrackRecord::new(4, 2, 50, 77)];
/// let v = lineage_violations(&orphan, 0, 5);
/// assert!(v[0].what.contains("outside the sequence's frames 0–5") && v[1].what.contains("parent 77 is not listed"));
/// ```
pub fn lineage_violations(tracks: &[TrackRecord], first: usize, last: usize) -> Vec<Violation> {
    let by_label: HashMap<u32, &TrackRecord> = tracks.iter().map(|t| (t.label, t)).collect();
    let mut out = Vec::new();
    for tr in tracks {
        let l = tr.label;
        let v = |frame, what: String| Violation { frame, label: Some(l), what };
        if tr.begin < first || tr.end > last {
            out.push(v(None, format!("track spans frames {}–{}, outside the sequence's frames {first}–{last}", tr.begin, tr.end)));
        }
        if tr.parent != 0 {
            match by_label.get(&tr.parent) {
                None => out.push(v(Some(tr.begin), format!("parent {} is not listed in the track file", tr.parent))),
                Some(p) if p.end >= tr.begin => out.push(v(Some(tr.begin), format!("parent {} ends in frame {}, not before the child begins in frame {}", tr.parent, p.end, tr.begin))),
                _ => {}
            }
        }
    }
    out
}

/// The first of [`lineage_violations`] of `tracks` (read from
/// `track_file`, of frames `first`–`last`) as an error naming the file.
pub fn check_lineage(track_file: &Path, tracks: &[TrackRecord], first: usize, last: usize) -> Result<()> {
    let faults = lineage_violations(tracks, first, last);
    match faults.first() {
        None => Ok(()),
        Some(v) => {
            let more = match faults.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            Err(CtcError::new(track_file, format!("track {}: {}{more}; not a valid lineage (`cellstream validate` lists a result's faults)", v.label.unwrap_or(0), v.what)))
        }
    }
}

fn check_tracks(
    tracks: &[TrackRecord],
    presence: &BTreeMap<u32, Presence>,
    first: usize,
    last: usize,
) -> Vec<Violation> {
    let mut out = lineage_violations(tracks, first, last);
    let by_label: HashMap<u32, &TrackRecord> = tracks.iter().map(|t| (t.label, t)).collect();
    let v = |frame, label, what: String| Violation { frame, label: Some(label), what };
    for (&label, p) in presence {
        if !by_label.contains_key(&label) {
            out.push(v(Some(p.runs[0].0), label, "appears in the masks but is not listed in res_track.txt".into()));
        }
    }
    for tr in tracks {
        let l = tr.label;
        if l > u16::MAX as u32 {
            out.push(v(None, l, "label does not fit in 16 bits".into()));
        }
        match presence.get(&l) {
            None => out.push(v(Some(tr.begin), l, format!("listed for frames {}–{} but absent from every mask", tr.begin, tr.end))),
            Some(p) => {
                let (b, e) = (p.runs[0].0, p.runs.last().unwrap().1);
                if b != tr.begin {
                    out.push(v(Some(b.min(tr.begin)), l, format!("first appears in frame {b} but res_track.txt says it begins in frame {}", tr.begin)));
                }
                if e != tr.end {
                    out.push(v(Some(e.max(tr.end)), l, format!("last appears in frame {e} but res_track.txt says it ends in frame {}", tr.end)));
                }
                for w in p.runs.windows(2) {
                    let (gap_a, gap_b) = (w[0].1 + 1, w[1].0 - 1);
                    let span = if gap_a == gap_b { format!("frame {gap_a}") } else { format!("frames {gap_a}–{gap_b}") };
                    out.push(v(Some(gap_a), l, format!("track has a hole: missing from {span}; a track must be present in every frame from B to E (use a new label with this one as parent)")));
                }
            }
        }

    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctc::{ResultWriter, TrackRecord};
    use ndarray::array;

    fn write(dir: &Path, masks: &[ndarray::Array2<u32>], tracks: &[TrackRecord]) {
        let w = ResultWriter::create(dir, 3).unwrap();
        for (t, m) in masks.iter().enumerate() {
            w.write_mask(t, m).unwrap();
        }
        w.finish(tracks).unwrap();
    }

    #[test]
    fn valid_result_has_no_violations() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path().join("RES");
        write(&r, &[array![[1, 0, 0]], array![[2, 0, 3]]], &[TrackRecord::new(1, 0, 0, 0), TrackRecord::new(2, 1, 1, 1), TrackRecord::new(3, 1, 1, 1)]);
        assert_eq!(validate_result(&r).unwrap(), vec![]);
    }

    #[test]
    fn every_rule_is_named() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path().join("RES");
        // 1: hole at frame 1; 2: unlisted; 3: parent 9 missing; 4: wrong end; 5: parent overlaps child
        write(
            &r,
            &[array![[1, 2, 3, 4]], array![[0, 0, 3, 4]], array![[1, 0, 3, 5]]],
            &[TrackRecord::new(1, 0, 2, 0), TrackRecord::new(3, 0, 2, 9), TrackRecord::new(4, 0, 2, 0), TrackRecord::new(5, 2, 2, 4)],
        );
        let v = validate_result(&r).unwrap();
        let text: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        let has = |s: &str| text.iter().any(|t| t.contains(s));
        assert!(has("frame 1, label 1: track has a hole"), "{text:#?}");
        assert!(has("label 2: appears in the masks but is not listed"), "{text:#?}");
        assert!(has("label 3: parent 9 is not listed"), "{text:#?}");
        assert!(has("label 4: last appears in frame 1"), "{text:#?}");
        assert!(has("label 5: parent 4 ends in frame 2"), "{text:#?}");
    }
}
