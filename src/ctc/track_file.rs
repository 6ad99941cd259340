//! The CTC track file (`man_track.txt`, `res_track.txt`): one line `L B E P` per track.
//!
//! `L` is the label, `B` and `E` the first and last frame in which it appears,
//! and `P` the label of its parent track (0 for none).
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use super::error::{CtcError, Result};
use super::staging::write_atomic;

/// One line of a track file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct TrackRecord {
    pub label: u32,
    pub begin: usize,
    pub end: usize,
    pub parent: u32,
}

impl TrackRecord {
    /// The track `label`, present from frame `begin` to frame `end` (both
    /// included), whose mother is track `parent` (0 for none): the line
    /// `label begin end parent` of a track file.
    ///
    /// ```
    /// use cellstream::ctc::TrackRecord;
    /// let daughter = TrackRecord::new(2, 5, 9, 1);
    /// assert_eq!((daughter.begin, daughter.parent), (5, 1));
    /// ```
    pub const fn new(label: u32, begin: usize, end: usize, parent: u32) -> Self {
        TrackRecord { label, begin, end, parent }
    }
}

/// How many tracks name each track as their parent, by the parent's label
/// (two or more: a division; one: the track continued across a gap).
pub fn daughter_counts(tracks: &[TrackRecord]) -> HashMap<u32, usize> {
    let mut counts = HashMap::new();
    for r in tracks.iter().filter(|r| r.parent != 0) {
        *counts.entry(r.parent).or_default() += 1;
    }
    counts
}

/// The first track of each track's chain of continuations, by label: a
/// track that is its mother's only daughter (CTC's way of continuing a
/// track across a gap) belongs to her chain, so the chains are the longest
/// paths without a branch (GEFF's tracklets, py-ctcmetrics' `merge_tracks`).
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// // 1 continues alone as 2 after a gap; 2 divides into 3 and 4.
/// let tracks: Vec<TrackRecord> = [(1, 0, 1, 0), (2, 3, 4, 1), (3, 5, 6, 2), (4, 5, 6, 2)].iter().map(|&(l, b, e, p)| TrackRecord::new(l, b, e, p)).collect();
/// assert_eq!(cellstream::ctc::chain_starts(&tracks), [(1, 1), (2, 1), (3, 3), (4, 4)].into());
/// ```
pub fn chain_starts(tracks: &[TrackRecord]) -> BTreeMap<u32, u32> {
    let daughters = daughter_counts(tracks);
    let parent: BTreeMap<u32, u32> = tracks.iter().map(|r| (r.label, r.parent)).collect();
    parent
        .keys()
        .map(|&label| {
            let mut at = label;
            // Up while the mother has this one daughter alone; a cycle in the
            // parents (an invalid file) stops after every track was passed once.
            for _ in 0..parent.len() {
                match parent.get(&at) {
                    Some(&p) if p != 0 && parent.contains_key(&p) && daughters.get(&p) == Some(&1) => at = p,
                    _ => break,
                }
            }
            (label, at)
        })
        .collect()
}

/// The tracks of a sequence cut to the frames `first`–`last`, as though it
/// held those frames alone: each track's span is cut to them, a track that
/// lies outside them is dropped, and so is the parent of a track whose
/// mother is dropped (parent 0: it begins at `first` without her). A track
/// that is valid for the whole sequence stays valid for the cut one.
///
/// ```
/// use cellstream::ctc::{clip_tracks, TrackRecord};
/// // 1 divides into 2 and 3 in frame 5; 4 lives in frames 0-2 alone.
/// let tracks = [TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 9, 1), TrackRecord::new(3, 5, 7, 1), TrackRecord::new(4, 0, 2, 0)];
/// assert_eq!(clip_tracks(&tracks, 3, 6), [TrackRecord::new(1, 3, 4, 0), TrackRecord::new(2, 5, 6, 1), TrackRecord::new(3, 5, 6, 1)]);
/// // From frame 5 on, the mother is gone and her daughters begin as roots.
/// assert_eq!(clip_tracks(&tracks, 5, 9), [TrackRecord::new(2, 5, 9, 0), TrackRecord::new(3, 5, 7, 0)]);
/// ```
pub fn clip_tracks(tracks: &[TrackRecord], first: usize, last: usize) -> Vec<TrackRecord> {
    let kept: Vec<TrackRecord> = tracks
        .iter()
        .filter(|r| r.begin <= last && r.end >= first)
        .map(|r| TrackRecord { begin: r.begin.max(first), end: r.end.min(last), ..*r })
        .collect();
    let labels: std::collections::HashSet<u32> = kept.iter().map(|r| r.label).collect();
    kept.into_iter().map(|r| if labels.contains(&r.parent) { r } else { TrackRecord { parent: 0, ..r } }).collect()
}

/// Parses the text of a track file. `path` names it in errors, with the line number.
///
/// ```
/// use cellstream::ctc::parse_tracks;
/// let t = parse_tracks("1 0 4 0\n2 5 9 1\n", "res_track.txt".as_ref()).unwrap();
/// assert_eq!(t[1].parent, 1);
/// assert!(parse_tracks("1 0 four 0\n", "res_track.txt".as_ref()).is_err());
/// ```
pub fn parse_tracks(text: &str, path: &Path) -> Result<Vec<TrackRecord>> {
    let mut out: Vec<TrackRecord> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: &str| CtcError::new(path, format!("line {}: {why}: {line:?}", i + 1));
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 4 {
            return Err(bad(&format!("expected 4 numbers `L B E P`, found {} fields", fields.len())));
        }
        let mut nums = [0u64; 4];
        for (k, f) in fields.iter().enumerate() {
            nums[k] = f
                .parse::<u64>()
                .map_err(|_| bad(&format!("{f:?} is not a non-negative whole number")))?;
        }
        let [label, begin, end, parent] = nums;
        if label == 0 {
            return Err(bad("label 0 is background and cannot be a track"));
        }
        if label > u32::MAX as u64 || parent > u32::MAX as u64 {
            return Err(bad("label does not fit in 32 bits"));
        }
        if begin > end {
            return Err(bad(&format!("track begins (B={begin}) after it ends (E={end})")));
        }
        if parent == label {
            return Err(bad("a track cannot be its own parent"));
        }
        if !seen.insert(label) {
            return Err(bad(&format!("label {label} is listed twice")));
        }
        out.push(TrackRecord {
            label: label as u32,
            begin: begin as usize,
            end: end as usize,
            parent: parent as u32,
        });
    }
    Ok(out)
}

/// Reads and parses a track file.
pub fn read_tracks(path: &Path) -> Result<Vec<TrackRecord>> {
    let bytes = std::fs::read(path).map_err(|e| CtcError::io(path, &e))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| CtcError::new(path, "is not a text file (invalid UTF-8)"))?;
    parse_tracks(text, path)
}

/// Writes a track file atomically, sorted by label.
pub fn write_tracks(path: &Path, tracks: &[TrackRecord]) -> Result<()> {
    let mut sorted = tracks.to_vec();
    sorted.sort();
    write_atomic(path, |w| {
        for t in &sorted {
            writeln!(w, "{} {} {} {}", t.label, t.begin, t.end, t.parent)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("res_track.txt");
        let tracks = vec![
            TrackRecord::new(2, 3, 7, 1),
            TrackRecord::new(1, 0, 2, 0),
        ];
        write_tracks(&p, &tracks).unwrap();
        let back = read_tracks(&p).unwrap();
        assert_eq!(back, vec![tracks[1], tracks[0]]);
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let p = Path::new("man_track.txt");
        for (text, needle) in [
            ("1 0 3 0\n2 1 2\n", "line 2"),
            ("1 0 3 x\n", "\"x\""),
            ("1 5 3 0\n", "after it ends"),
            ("0 0 3 0\n", "background"),
            ("1 0 3 0\n1 4 5 0\n", "twice"),
            ("1 0 -3 0\n", "\"-3\""),
        ] {
            let e = parse_tracks(text, p).unwrap_err();
            assert!(e.to_string().starts_with("man_track.txt: "), "{e}");
            assert!(e.to_string().contains(needle), "{e} should mention {needle}");
        }
    }

    #[test]
    fn blank_lines_and_crlf_are_accepted() {
        let t = parse_tracks("1 0 3 0\r\n\r\n2 4 5 1\r\n", Path::new("a")).unwrap();
        assert_eq!(t.len(), 2);
    }
}
