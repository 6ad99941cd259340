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
//! 'pos0/img_{t}_DAPI_000.tif'` tracks the DAPI channel's frames. Where each
//! file holds one z slice, `{z}` marks the slice number, and each time
//! point's slices are gathered, in the order of their numbers, into one
//! z-stack for `--project` (`img_channel000_position000_time{t}_z{z}.tif`).
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::error::{CtcError, Result};
use super::planes::{z_project, Planes};
use super::sequence::read_dir_names;
use super::tiff_io::{read_frame_planes, Frame};

/// A parsed file-name pattern: text, `*`, exactly one `{t}` and at most one `{z}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePattern {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Time,
    Slice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Any,
    Number(Field),
}

/// Where a name matched the pattern's numbers: byte ranges of `{t}` and `{z}`.
#[derive(Debug, Clone, Copy, Default)]
struct Found {
    time: Option<(usize, usize)>,
    slice: Option<(usize, usize)>,
}

/// Whether `path` names frames by a pattern (its file name holds `{t}` or
/// `{z}`) rather than a folder or a file.
pub fn is_pattern(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n.contains("{t}") || n.contains("{z}")
    })
}

/// Whether `path` is a pattern that gathers z slices from files of their
/// own (its file name holds `{z}`).
pub fn names_slices(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n.to_string_lossy().contains("{z}"))
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
        let pattern = Self::parse_parts(text)?;
        if !pattern.has(Field::Time) {
            return Err(format!("the pattern {text} holds no {{t}}; write the number that counts the time points as {{t}} (e.g. img_{{t}}_DAPI_000.tif)"));
        }
        Ok(pattern)
    }

    fn parse_parts(text: &str) -> std::result::Result<FilePattern, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let field = [("{t}", Field::Time), ("{z}", Field::Slice)].into_iter().find(|(mark, _)| rest.starts_with(mark));
            if let Some((mark, field)) = field {
                if parts.contains(&Part::Number(field)) {
                    return Err(format!("the pattern {text} holds {mark} twice; it marks one number of the name"));
                }
                parts.extend((!literal.is_empty()).then(|| Part::Text(std::mem::take(&mut literal))));
                parts.push(Part::Number(field));
                rest = &rest[3..];
            } else if c == '{' {
                return Err(format!("the pattern {text} holds {{ that starts neither {{t}} nor {{z}}; write the time point as {{t}}, a z slice as {{z}} and any other varying part as *"));
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
        Ok(FilePattern { parts })
    }

    fn has(&self, field: Field) -> bool {
        self.parts.contains(&Part::Number(field))
    }

    /// The time point of the file named `name`, if the pattern matches the
    /// whole name. `{t}` (and `{z}`) take the longest run of digits that
    /// lets the rest match.
    pub fn time_of(&self, name: &str) -> Option<usize> {
        let found = matches(&self.parts, name.as_bytes(), 0)?;
        number(name, found.time?)
    }
}

fn number(name: &str, (a, b): (usize, usize)) -> Option<usize> {
    name.get(a..b)?.parse().ok()
}

/// Matches `parts` against all of `name` from byte `at`; where its numbers lie.
fn matches(parts: &[Part], name: &[u8], at: usize) -> Option<Found> {
    let Some((first, rest)) = parts.split_first() else {
        return (at == name.len()).then(Found::default);
    };
    match first {
        Part::Text(s) => name[at..].starts_with(s.as_bytes()).then(|| matches(rest, name, at + s.len())).flatten(),
        Part::Any => (at..=name.len()).find_map(|i| matches(rest, name, i)),
        Part::Number(field) => {
            let run = name[at..].iter().take_while(|b| b.is_ascii_digit()).count();
            (1..=run.min(18)).rev().find_map(|k| {
                let mut found = matches(rest, name, at + k)?;
                match field {
                    Field::Time => found.time = Some((at, at + k)),
                    Field::Slice => found.slice = Some((at, at + k)),
                }
                Some(found)
            })
        }
    }
}

/// The files of the folder a pattern path lies in whose names the pattern
/// matches, by time point. A time point matched by two files, and a pattern
/// that matches no file, are errors naming the pattern (with some of the
/// folder's names, to write it from). With `{z}` in the pattern, each time
/// point is the pattern of its slices (`…_time000000012_z{z}.tif`, which
/// [`super::read_frame_planes`] reads), and every time point must have as many slices as
/// the first.
pub fn list_pattern_files(path: &Path) -> Result<BTreeMap<usize, PathBuf>> {
    let (files, slices) = list_pattern_planes(path)?;
    require_same_slices(path, &files, &slices)?;
    Ok(files)
}

/// [`list_pattern_files`] without requiring every time point to have as
/// many z slices as the first, as while a live acquisition is still writing
/// the last one: the files by time point, and, where the pattern holds
/// `{z}`, how many slices each time point has so far (empty otherwise).
pub(crate) fn list_pattern_planes(path: &Path) -> Result<(BTreeMap<usize, PathBuf>, BTreeMap<usize, usize>)> {
    let (dir, text) = split(path);
    let pattern = FilePattern::parse(&text).map_err(|what| CtcError::new(path, what))?;
    // Taken before the names: a file added while they are read changes it.
    let modified = modified(dir);
    let names = folder_names(dir)?;
    let mut files = BTreeMap::new();
    let mut slices: BTreeMap<usize, (String, usize)> = BTreeMap::new();
    let mut slice_files: HashMap<String, Vec<(usize, PathBuf)>> = HashMap::new();
    for name in &names {
        let Some(found) = matches(&pattern.parts, name.as_bytes(), 0) else { continue };
        let Some(t) = found.time.and_then(|span| number(name, span)) else { continue };
        if let Some((a, b)) = found.slice {
            // The time point's slices, as one pattern with `{z}`.
            let each = format!("{}{{z}}{}", &name[..a], &name[b..]);
            if let Some(z) = number(name, (a, b)) {
                slice_files.entry(each.clone()).or_default().push((z, dir.join(name)));
            }
            match slices.get_mut(&t) {
                None => {
                    slices.insert(t, (each.clone(), 1));
                    files.insert(t, dir.join(each));
                }
                Some((first, n)) if *first == each => *n += 1,
                Some((first, _)) => {
                    return Err(CtcError::new(
                        path,
                        format!("matches two sets of z slices of time point {t}, {first} and {each}; write more of their names into the pattern so that it matches one file a slice"),
                    ));
                }
            }
            continue;
        }
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
    if !slice_files.is_empty() {
        let mut cache = SLICE_FILES.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(dir.to_path_buf(), Listing { modified, slices: slice_files });
    }
    Ok((files, slices.into_iter().map(|(t, (_, n))| (t, n)).collect()))
}

/// The slice files of each time point, by the pattern of its slices, as
/// [`list_pattern_planes`] last found them in a folder, so that reading
/// time point after time point does not list a folder of many thousand
/// files again for each ([`list_slice_files`]).
struct Listing {
    /// The folder's modification time when it was listed: a folder changed
    /// since is listed again.
    modified: Option<std::time::SystemTime>,
    slices: HashMap<String, Vec<(usize, PathBuf)>>,
}

/// The last listing of each folder a pattern with `{z}` was listed in.
static SLICE_FILES: Mutex<BTreeMap<PathBuf, Listing>> = Mutex::new(BTreeMap::new());

fn modified(dir: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(dir).and_then(|m| m.modified()).ok()
}

/// Errors, naming the pattern `path`, unless every time point in `slices`
/// (z slices by time point, of the `files` [`list_pattern_planes`] lists)
/// has as many slices as the first.
pub(crate) fn require_same_slices(path: &Path, files: &BTreeMap<usize, PathBuf>, slices: &BTreeMap<usize, usize>) -> Result<()> {
    if let Some((&t0, &n0)) = slices.iter().next()
        && let Some((&t, &n)) = slices.iter().find(|&(_, &n)| n != n0)
    {
        let each = files.get(&t).and_then(|f| f.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        return Err(CtcError::new(
            path,
            format!("gives time point {t} {n} z slice(s) ({each}) but time point {t0} {n0}; every time point must have the same slices"),
        ));
    }
    Ok(())
}

/// The z slices of one time point, named by a pattern with `{z}` and no
/// `{t}` (as [`list_pattern_files`] names them), in the order of their
/// numbers.
pub fn list_slice_files(path: &Path) -> Result<Vec<PathBuf>> {
    let (dir, text) = split(path);
    let pattern = FilePattern::parse_parts(&text).map_err(|what| CtcError::new(path, what))?;
    if pattern.has(Field::Time) || !pattern.has(Field::Slice) {
        return Err(CtcError::new(path, "is not the pattern of one time point's z slices ({z} and no {t})"));
    }
    let cached = {
        let cache = SLICE_FILES.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(dir).filter(|l| l.modified.is_some() && l.modified == modified(dir)).and_then(|l| l.slices.get(&text).cloned())
    };
    let mut found: Vec<(usize, PathBuf)> = match cached {
        Some(found) => found,
        None => {
            let mut found = Vec::new();
            for name in folder_names(dir)? {
                if let Some(z) = matches(&pattern.parts, name.as_bytes(), 0).and_then(|f| number(&name, f.slice?)) {
                    found.push((z, dir.join(name)));
                }
            }
            found
        }
    };
    found.sort();
    if found.is_empty() {
        return Err(CtcError::new(path, format!("matches no file in {}", dir.display())));
    }
    if let Some(w) = found.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(CtcError::new(path, format!("matches two files of z slice {}, {} and {}", w[0].0, w[0].1.display(), w[1].1.display())));
    }
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

/// A time point whose z slices are one file each (`…_time000000012_z{z}.tif`)
/// as the projection `planes` asks for, of `planes.channel` of each slice.
pub fn read_slices(path: &Path, planes: Planes) -> Result<Frame> {
    let files = list_slice_files(path)?;
    let Some(kind) = planes.project else {
        return Err(CtcError::new(
            path,
            format!("names {} z slices, one file each; --project max (or mean) projects them into one frame, or name one slice in the pattern", files.len()),
        ));
    };
    let z = planes.slices.map_or(Ok(0..files.len()), |r| r.within(path, files.len()))?;
    let one = Planes { channel: planes.channel, ..Planes::default() };
    z_project(path, kind, files[z].iter().map(|f| read_frame_planes(f, one)))
}

/// The folder a pattern path lies in, and its file name.
fn split(path: &Path) -> (&Path, String) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    (dir, path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
}

/// The names in `dir`, sorted.
fn folder_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = read_dir_names(dir)?;
    names.sort();
    Ok(names)
}

fn is_tiff(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".tif") || lower.ends_with(".tiff")
}

/// A pattern that would pick one plane a time point out of `names` (TIFF
/// names of one folder, each with numbers in it), to suggest when their last
/// numbers repeat. Of the numbers that vary across the names, the time point
/// `{t}` is the one its name calls so (after `t`, `time`, `tp` or `frame`),
/// else the one that takes the most values; one after `z` or `slice` is
/// written `{z}` (slices to gather for `--project`). The rest keep the first
/// name's values. None where the names are not alike.
///
/// ```
/// let names = ["img_000000000_DAPI_000.tif", "img_000000000_GFP_000.tif", "img_000000001_DAPI_000.tif"];
/// assert_eq!(cellstream::ctc::suggest_pattern(&names).as_deref(), Some("img_{t}_DAPI_000.tif"));
/// // More slices than time points: the names say which number is which.
/// let names: Vec<String> = (0..2).flat_map(|t| (0..5).map(move |z| format!("img_channel000_position000_time{t:09}_z{z:03}.tif"))).collect();
/// assert_eq!(cellstream::ctc::suggest_pattern(&names).as_deref(), Some("img_channel000_position000_time{t}_z{z}.tif"));
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
    let first_runs = runs(first);
    let n = first_runs.len();
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
    // The letters just before run k, lower case: "time", "z", "_t".
    let label = |k: usize| -> String {
        let (a, _) = first_runs[k];
        first[..a].chars().rev().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().chars().rev().collect::<String>().to_ascii_lowercase()
    };
    let varying: Vec<usize> = (0..n).filter(|&k| values[k].len() > 1).collect();
    let slice = varying.iter().copied().find(|&k| matches!(label(k).as_str(), "z" | "slice"));
    let time = varying
        .iter()
        .copied()
        .find(|&k| matches!(label(k).as_str(), "t" | "time" | "tp" | "frame"))
        .or_else(|| varying.iter().copied().filter(|&k| Some(k) != slice).max_by_key(|&k| (values[k].len(), std::cmp::Reverse(k))))?;
    let mut out = String::new();
    let mut at = 0;
    for (k, &(a, b)) in first_runs.iter().enumerate() {
        let mark = if k == time { "{t}" } else if Some(k) == slice { "{z}" } else { continue };
        out.push_str(&first[at..a]);
        out.push_str(mark);
        at = b;
    }
    out.push_str(&first[at..]);
    Some(out)
}

/// The default result folder's name for a pattern: its file name without
/// the extension, `{t}`, `{z}` and `*`, then `_RES` (`img_{t}_DAPI_000.tif` →
/// `img_DAPI_000_RES`).
pub fn pattern_result_name(path: &Path) -> String {
    let text = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = text.rsplit_once('.').map_or(text.as_str(), |(s, _)| s);
    let mut out = String::new();
    for c in stem.replace("{t}", "_").replace("{z}", "_").replace('*', "_").chars() {
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

    /// The slices of each time point come from the folder's last listing
    /// while the folder is unchanged, and from a new listing once it changes.
    #[test]
    fn a_folders_listing_serves_each_time_points_slices_until_the_folder_changes() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        for t in 0..3 {
            for z in 0..2 {
                std::fs::write(dir.join(format!("img_t{t:03}_z{z}.tif")), b"").unwrap();
            }
        }
        let (files, counts) = list_pattern_planes(&dir.join("img_t{t}_z{z}.tif")).unwrap();
        assert_eq!(counts, [(0, 2), (1, 2), (2, 2)].into());
        let one = files[&1].clone();
        assert_eq!(one, dir.join("img_t001_z{z}.tif"));
        assert_eq!(list_slice_files(&one).unwrap(), [dir.join("img_t001_z0.tif"), dir.join("img_t001_z1.tif")]);
        // A slice added with the folder's time set back is not seen: the listing served it.
        let listed = std::fs::metadata(dir).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::fs::write(dir.join("img_t001_z2.tif"), b"").unwrap();
        std::fs::File::open(dir).unwrap().set_modified(listed).unwrap();
        assert_eq!(list_slice_files(&one).unwrap().len(), 2);
        // A folder changed since its listing is listed again.
        std::fs::File::open(dir).unwrap().set_modified(listed + std::time::Duration::from_secs(1)).unwrap();
        assert_eq!(list_slice_files(&one).unwrap().len(), 3);
    }

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
        assert_eq!(FilePattern::parse("a**{t}").unwrap().parts, [Part::Text("a".into()), Part::Any, Part::Number(Field::Time)]);
        assert!(FilePattern::parse("{t}_{t}.tif").unwrap_err().contains("twice"));
        assert!(FilePattern::parse("{c}_{t}.tif").unwrap_err().contains("starts neither {t} nor {z}"));
        let z = FilePattern::parse("img_channel000_position000_time{t}_z{z}.tif").unwrap();
        let found = matches(&z.parts, b"img_channel000_position000_time000000012_z003.tif", 0).unwrap();
        assert_eq!((found.time, found.slice), (Some((31, 40)), Some((42, 45))));
        assert!(FilePattern::parse("{z}{z}{t}").unwrap_err().contains("{z} twice"));
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
