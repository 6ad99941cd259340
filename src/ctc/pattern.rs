//! File-name patterns that pick one sequence's frames out of a folder of many files: `DIR/img_{t}_DAPI_000.tif`.
//!
//! Micro-Manager, many microscopes and Fiji's image-sequence export write one
//! file per plane, with the time point, the channel and the z slice all in
//! the name (`img_000000012_DAPI_000.tif`,
//! `img_channel000_position000_time000000012_z000.tif`). The number at the
//! end of such a name is not the time point, so a folder of them cannot be
//! read by its last numbers. A pattern names the frames instead: its file
//! name is the files' names with the time point written `{t}` (one or more
//! digits) and any other part that varies written `*` (any text, also
//! none); everything else must match exactly. `cellstream track
//! 'pos0/img_{t}_DAPI_000.tif'` tracks the DAPI channel's frames.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{CtcError, Result};

/// A parsed file-name pattern: text, `*` and exactly one `{t}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePattern {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Any,
    Time,
}

/// Whether `path` names frames by a pattern (its file name holds `{`)
/// rather than a folder or a file.
pub fn is_pattern(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n.to_string_lossy().contains('{'))
}

impl FilePattern {
    /// Parses a file name such as `img_{t}_DAPI_*.tif`. It must hold `{t}`
    /// once; `{` may start nothing else.
    ///
    /// ```
    /// use cellstream::ctc::FilePattern;
    /// let p = FilePattern::parse("img_{t}_DAPI_*.tif").unwrap();
    /// assert_eq!(p.time_of("img_000000012_DAPI_000.tif"), Some(12));
    /// assert_eq!(p.time_of("img_000000012_GFP_000.tif"), None);
    /// assert!(FilePattern::parse("img_*.tif").unwrap_err().contains("{t}"));
    /// ```
    pub fn parse(text: &str) -> std::result::Result<FilePattern, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("{t}") {
                if parts.contains(&Part::Time) {
                    return Err(format!("the pattern {text} holds {{t}} twice; it marks the one number that counts the time points"));
                }
                parts.extend((!literal.is_empty()).then(|| Part::Text(std::mem::take(&mut literal))));
                parts.push(Part::Time);
                rest = after;
            } else if c == '{' {
                return Err(format!("the pattern {text} holds {{ that does not start {{t}}; write the time point as {{t}} and any other varying part as *"));
            } else if c == '*' {
                parts.extend((!literal.is_empty()).then(|| Part::Text(std::mem::take(&mut literal))));
                if parts.last() != Some(&Part::Any) {
                    parts.push(Part::Any);
                }
                rest = &rest[1..];
            } else {
                literal.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        parts.extend((!literal.is_empty()).then_some(Part::Text(literal)));
        if !parts.contains(&Part::Time) {
            return Err(format!("the pattern {text} holds no {{t}}; write the number that counts the time points as {{t}} (e.g. img_{{t}}_DAPI_000.tif)"));
        }
        Ok(FilePattern { parts })
    }

    /// The time point of the file named `name`, if the pattern matches the
    /// whole name. `{t}` takes the longest run of digits that lets the rest
    /// match.
    pub fn time_of(&self, name: &str) -> Option<usize> {
        matches(&self.parts, name.as_bytes())
    }
}

/// Matches `parts` against all of `name`; the time point `{t}` matched.
fn matches(parts: &[Part], name: &[u8]) -> Option<usize> {
    let Some((first, rest)) = parts.split_first() else {
        // The time point is reported by the `{t}` that matched; here, an
        // empty tail matched an empty name.
        return name.is_empty().then_some(usize::MAX);
    };
    match first {
        Part::Text(s) => name.strip_prefix(s.as_bytes()).and_then(|n| matches(rest, n)),
        Part::Any => (0..=name.len()).find_map(|i| matches(rest, &name[i..])),
        Part::Time => {
            let run = name.iter().take_while(|b| b.is_ascii_digit()).count();
            (1..=run.min(18)).rev().find_map(|k| {
                matches(rest, &name[k..])?;
                std::str::from_utf8(&name[..k]).ok()?.parse().ok()
            })
        }
    }
}

/// The files of the folder a pattern path lies in whose names the pattern
/// matches, by time point. A time point matched by two files, and a pattern
/// that matches no file, are errors naming the pattern (with some of the
/// folder's names, to write it from).
pub fn list_pattern_files(path: &Path) -> Result<BTreeMap<usize, PathBuf>> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let text = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let pattern = FilePattern::parse(&text).map_err(|what| CtcError::new(path, what))?;
    let meta = std::fs::metadata(dir).map_err(|e| CtcError::io(dir, &e))?;
    if !meta.is_dir() {
        return Err(CtcError::new(dir, "is not a folder"));
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| CtcError::io(dir, &e))? {
        let entry = entry.map_err(|e| CtcError::io(dir, &e))?;
        if let Some(n) = entry.file_name().to_str() {
            names.push(n.to_string());
        }
    }
    names.sort();
    let mut files = BTreeMap::new();
    for name in &names {
        let Some(t) = pattern.time_of(name) else { continue };
        if let Some(before) = files.insert(t, dir.join(name)) {
            let before = before.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            return Err(CtcError::new(
                path,
                format!("matches two files of time point {t}, {before} and {name}; write more of their names into the pattern (the channel, the z slice) so that it matches one file a time point"),
            ));
        }
    }
    if files.is_empty() {
        let tiffs: Vec<&str> = names.iter().map(String::as_str).filter(|n| is_tiff(n)).take(3).collect();
        let some = if tiffs.is_empty() { "it holds no TIFF".to_string() } else { format!("its TIFFs are named like {}", tiffs.join(", ")) };
        return Err(CtcError::new(path, format!("matches no file in {}; {some}", dir.display())));
    }
    Ok(files)
}

fn is_tiff(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".tif") || lower.ends_with(".tiff")
}

/// A pattern that would pick one plane a time point out of `names` (TIFF
/// names of one folder, each with numbers in it), to suggest when their last
/// numbers repeat: the first name with the number that takes the most
/// values across the names (the time point) written `{t}`. None where the
/// names are not alike.
///
/// ```
/// let names = ["img_000000000_DAPI_000.tif", "img_000000000_GFP_000.tif", "img_000000001_DAPI_000.tif"];
/// assert_eq!(cellstream::ctc::suggest_pattern(&names).as_deref(), Some("img_{t}_DAPI_000.tif"));
/// ```
pub fn suggest_pattern<S: AsRef<str>>(names: &[S]) -> Option<String> {
    let runs = |name: &str| -> Vec<(usize, usize)> {
        let b = name.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                out.push((start, i));
            } else {
                i += 1;
            }
        }
        out
    };
    let first = names.first()?.as_ref();
    let n = runs(first).len();
    let mut values: Vec<std::collections::BTreeSet<&str>> = vec![Default::default(); n];
    for name in names.iter().map(AsRef::as_ref) {
        let r = runs(name);
        if r.len() != n {
            continue;
        }
        for (k, &(a, b)) in r.iter().enumerate() {
            values[k].insert(&name[a..b]);
        }
    }
    let (k, _) = values.iter().enumerate().filter(|(_, v)| v.len() > 1).max_by_key(|(k, v)| (v.len(), std::cmp::Reverse(*k)))?;
    let (a, b) = runs(first)[k];
    Some(format!("{}{{t}}{}", &first[..a], &first[b..]))
}

/// The default result folder's name for a pattern: its file name without
/// the extension, `{t}` and `*`, then `_RES` (`img_{t}_DAPI_000.tif` →
/// `img_DAPI_000_RES`).
pub fn pattern_result_name(path: &Path) -> String {
    let text = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = text.rsplit_once('.').map_or(text.as_str(), |(s, _)| s);
    let mut out = String::new();
    for c in stem.replace("{t}", "_").replace('*', "_").chars() {
        let sep = matches!(c, '_' | '-' | '.' | ' ');
        if sep && (out.is_empty() || out.ends_with(['_', '-', '.', ' '])) {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_end_matches(['_', '-', '.', ' ']);
    format!("{}_RES", if out.is_empty() { "frames" } else { out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn patterns_by_hand() {
        let mm2 = FilePattern::parse("img_channel000_position000_time{t}_z000.tif").unwrap();
        assert_eq!(mm2.time_of("img_channel000_position000_time000000042_z000.tif"), Some(42));
        assert_eq!(mm2.time_of("img_channel001_position000_time000000042_z000.tif"), None);
        assert_eq!(mm2.time_of("img_channel000_position000_time_z000.tif"), None, "{{t}} needs a digit");
        // {t} then more digits: the longest run that lets the rest match.
        let p = FilePattern::parse("t{t}0.tif").unwrap();
        assert_eq!(p.time_of("t1230.tif"), Some(123));
        let p = FilePattern::parse("*{t}.tif").unwrap();
        assert_eq!(p.time_of("frame_0007.tif"), Some(7));
        assert_eq!(FilePattern::parse("a**{t}").unwrap().parts, [Part::Text("a".into()), Part::Any, Part::Time]);
        assert!(FilePattern::parse("{t}_{t}.tif").unwrap_err().contains("twice"));
        assert!(FilePattern::parse("{z}_{t}.tif").unwrap_err().contains("does not start {t}"));
        assert_eq!(pattern_result_name(Path::new("d/img_{t}_DAPI_000.tif")), "img_DAPI_000_RES");
        assert_eq!(pattern_result_name(Path::new("{t}.tif")), "frames_RES");
        assert_eq!(pattern_result_name(Path::new("*_t{t}*.tif")), "t_RES");
        let mm2_names = [
            "img_channel000_position000_time000000000_z000.tif",
            "img_channel000_position000_time000000001_z000.tif",
            "img_channel000_position000_time000000002_z000.tif",
            "img_channel001_position000_time000000001_z000.tif",
        ];
        assert_eq!(suggest_pattern(&mm2_names).as_deref(), Some("img_channel000_position000_time{t}_z000.tif"));
        assert_eq!(suggest_pattern(&["a.tif", "b.tif"]), None);
    }

    proptest! {
        /// Any name built as prefix + zero-padded time + suffix is read back
        /// by the pattern prefix{t}suffix, when the suffix does not start
        /// with a digit.
        #[test]
        fn a_name_gives_back_its_time_point(prefix in "[a-z_]{0,6}[0-9]{0,3}[a-z_]{0,4}", t in 0usize..100_000, pad in 1usize..10, suffix in "([a-z_][a-z0-9_]{0,6})?\\.tif") {
            let name = format!("{prefix}{t:0pad$}{suffix}");
            let p = FilePattern::parse(&format!("{prefix}{{t}}{suffix}")).unwrap();
            prop_assert_eq!(p.time_of(&name), Some(t));
            let any = FilePattern::parse(&format!("*{{t}}{suffix}")).unwrap();
            prop_assert_eq!(any.time_of(&name).is_some(), true);
        }
    }
}
