//! The run record: what a run did, as TOML written beside its output.
//!
//! It holds the command, the settings in force (defaults included) and what
//! came out.
//!
//! `track` leaves one as [`RUN_RECORD`](crate::ctc::RUN_RECORD) in its result
//! folder; `report` shows it. CTC tools read only `maskTTT.tif` and
//! `res_track.txt`, so the extra file does not disturb them.
use std::time::{Instant, SystemTime};

use toml::{Table, Value};

/// The position of an NDTiff acquisition that the result folder `res` was
/// tracked from (`position` under `[run]` in its record), if it says so.
pub fn recorded_position(res: &std::path::Path) -> Option<i64> {
    let text = std::fs::read_to_string(res.join(crate::ctc::RUN_RECORD)).ok()?;
    text.parse::<Table>().ok()?.get("run")?.get("position")?.as_integer()
}

/// The span of time points the result folder `res` was tracked from
/// (`track --frames`, recorded as `frames` under `[run]`), if it says so.
pub fn recorded_frames(res: &std::path::Path) -> Option<crate::ctc::FrameRange> {
    let text = std::fs::read_to_string(res.join(crate::ctc::RUN_RECORD)).ok()?;
    text.parse::<Table>().ok()?.get("run")?.get("frames")?.as_str()?.parse().ok()
}

/// The position of the raw frames `raw` to read beside the result `res`
/// (`render`, `report`, `export --raw`): `given` (`--position`), else the
/// one `res` was tracked from where `raw` is an NDTiff acquisition. A
/// `given` position other than the recorded one is refused: the cells of
/// one well measured or drawn in another.
pub fn raw_position(res: &std::path::Path, raw: &std::path::Path, given: Option<i64>) -> crate::ctc::Result<Option<i64>> {
    match (given, recorded_position(res)) {
        (Some(g), Some(r)) if g != r => Err(crate::ctc::CtcError::new(
            res,
            format!("was tracked from position {r} of its acquisition (its {}); --position {g} reads another", crate::ctc::RUN_RECORD),
        )),
        (None, Some(r)) if crate::ctc::is_ndtiff(raw) => Ok(Some(r)),
        _ => Ok(given),
    }
}

/// A run's settings, gathered section by section while the run is set up.
#[derive(Debug, Clone)]
pub struct RunRecord {
    table: Table,
    start: Instant,
}

impl RunRecord {
    /// Starts a record of `command` (the program's arguments), now.
    pub fn new(command: impl Iterator<Item = String>) -> RunRecord {
        let mut record = RunRecord { table: Table::new(), start: Instant::now() };
        record
            .section("run")
            .set("command", shell_line(command))
            .set("cellstream", env!("CARGO_PKG_VERSION"))
            .set("started", utc_text(SystemTime::now()));
        record
    }

    /// The section `name` (`[name]` in the file), created empty on first use.
    pub fn section(&mut self, name: &str) -> Section<'_> {
        let entry = self.table.entry(name).or_insert_with(|| Value::Table(Table::new()));
        match entry {
            Value::Table(t) => Section(t),
            _ => unreachable!("sections are only ever tables"),
        }
    }

    /// The record as TOML, with the seconds since [`RunRecord::new`] under `[result]`.
    pub fn finish(mut self) -> String {
        let seconds = (self.start.elapsed().as_secs_f64() * 100.0).round() / 100.0;
        self.section("result").set("seconds", seconds);
        let mut text = String::from("# Written by cellstream: the settings of the run that made this folder.\n");
        text.push_str(&toml::to_string(&self.table).expect("a table of plain values serialises"));
        text
    }
}

/// One section of a [`RunRecord`].
pub struct Section<'a>(&'a mut Table);

impl Section<'_> {
    /// Sets `key` to `value`; integers wider than TOML's i64 are written as text.
    pub fn set(&mut self, key: &str, value: impl Into<Setting>) -> &mut Self {
        self.0.insert(key.to_string(), value.into().0);
        self
    }
}

/// A value a [`Section`] holds.
pub struct Setting(Value);

impl From<&str> for Setting {
    fn from(v: &str) -> Self {
        Setting(Value::String(v.to_string()))
    }
}
impl From<String> for Setting {
    fn from(v: String) -> Self {
        Setting(Value::String(v))
    }
}
impl From<bool> for Setting {
    fn from(v: bool) -> Self {
        Setting(Value::Boolean(v))
    }
}
impl From<f64> for Setting {
    fn from(v: f64) -> Self {
        Setting(Value::Float(v))
    }
}
impl From<f32> for Setting {
    /// Through its shortest decimal form, so 0.3f32 is written 0.3, not 0.30000001192092896.
    fn from(v: f32) -> Self {
        Setting(Value::Float(v.to_string().parse().unwrap_or(f64::from(v))))
    }
}
impl From<i64> for Setting {
    fn from(v: i64) -> Self {
        Setting(Value::Integer(v))
    }
}
impl From<usize> for Setting {
    fn from(v: usize) -> Self {
        Setting(i64::try_from(v).map_or_else(|_| Value::String(v.to_string()), Value::Integer))
    }
}
impl From<u64> for Setting {
    fn from(v: u64) -> Self {
        Setting(i64::try_from(v).map_or_else(|_| Value::String(v.to_string()), Value::Integer))
    }
}

/// A command line as one would type it: arguments with spaces or quotes in single quotes.
pub fn shell_line(args: impl Iterator<Item = String>) -> String {
    args.map(|a| {
        if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c)) {
            a
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    })
    .collect::<Vec<_>>()
    .join(" ")
}

/// A path as a record or report shows it: resolved (symbolic links followed)
/// when it exists, else made absolute, else as given.
pub fn path_text(p: &std::path::Path) -> String {
    std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms",
/// `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_text(t: SystemTime) -> String {
    let s = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let (y, m, d) = civil_from_days(s.div_euclid(86_400));
    let r = s.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", r / 3600, r / 60 % 60, r % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_quoted() {
        let a = ["cellstream", "report", "--res", "my res", "it's"].map(String::from);
        assert_eq!(shell_line(a.into_iter()), r"cellstream report --res 'my res' 'it'\''s'");
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_704_164_645);
        assert_eq!(utc_text(t), "2024-01-02 03:04:05 UTC");
    }

    #[test]
    fn record_reads_back_as_toml() {
        let mut r = RunRecord::new(["cellstream", "track", "01"].map(String::from).into_iter());
        r.section("link").set("max_gap", 2usize).set("divisions", true);
        r.section("model").set("seed_threshold", 0.3f32).set("path", "a b");
        r.section("link").set("max_displacement", 25.0);
        let text = r.finish();
        assert!(text.starts_with("# Written by cellstream"));
        let back: Table = toml::from_str(&text).unwrap();
        assert_eq!(back["run"]["command"].as_str(), Some("cellstream track 01"));
        assert_eq!(back["link"]["max_gap"].as_integer(), Some(2));
        assert_eq!(back["link"]["divisions"].as_bool(), Some(true));
        assert_eq!(back["link"]["max_displacement"].as_float(), Some(25.0));
        assert_eq!(back["model"]["seed_threshold"].as_float(), Some(0.3));
        assert!(back["result"]["seconds"].as_float().unwrap() >= 0.0);
    }
}
