//! Physical units of an image: its pixel size and frame interval, as ImageJ and OME-TIFF record them.
//!
//! A result holds pixels and frames; TrackMate places spots in the units of
//! the image it opens with them, so an export for a calibrated image must
//! give positions in that image's units. ImageJ records the pixel size as
//! the TIFF's XResolution (pixels per unit) with `unit=` in its description,
//! and the frame interval as `finterval=` (in `tunit=`, seconds by default);
//! OME-TIFF as `PhysicalSizeX` and `TimeIncrement` (µm and s by default).
use std::path::Path;

use tiff::decoder::ifd::Value;
use tiff::tags::Tag;

use super::error::Result;
use super::tiff_io::{decoder, open};

/// A pixel's size and a frame's duration, each with its unit; 1 pixel and 1
/// frame where nothing is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub pixel: f64,
    pub space_unit: String,
    pub interval: f64,
    pub time_unit: String,
}

impl Default for Calibration {
    fn default() -> Calibration {
        Calibration { pixel: 1.0, space_unit: "pixel".to_string(), interval: 1.0, time_unit: "frame".to_string() }
    }
}

/// What a TIFF records of its calibration: (size, unit) of a pixel and of a
/// frame interval, each where it is recorded.
pub type Recorded = (Option<(f64, String)>, Option<(f64, String)>);

/// What a quantity measures: a pixel's size or the time between frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Length,
    Time,
}

impl Quantity {
    /// The units taken, as written (`um`, `micrometer`), each with the name
    /// shown in TrackMate's XML: the lengths and times of OME-NGFF's list
    /// that a microscope's calibration uses.
    const fn units(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Quantity::Length => &[
                ("nm", "nm"), ("nanometer", "nm"), ("nanometre", "nm"),
                ("µm", "µm"), ("μm", "µm"), ("um", "µm"), ("micron", "µm"), ("microns", "µm"), ("micrometer", "µm"), ("micrometre", "µm"),
                ("mm", "mm"), ("millimeter", "mm"), ("millimetre", "mm"),
                ("cm", "cm"), ("centimeter", "cm"), ("centimetre", "cm"),
                ("m", "m"), ("meter", "m"), ("metre", "m"),
                ("Å", "Å"), ("angstrom", "Å"),
            ],
            Quantity::Time => &[
                ("ms", "ms"), ("msec", "ms"), ("millisecond", "ms"), ("milliseconds", "ms"),
                ("s", "s"), ("sec", "s"), ("secs", "s"), ("second", "s"), ("seconds", "s"),
                ("min", "min"), ("mins", "min"), ("minute", "min"), ("minutes", "min"),
                ("h", "h"), ("hr", "h"), ("hrs", "h"), ("hour", "h"), ("hours", "h"),
                ("d", "d"), ("day", "d"), ("days", "d"),
            ],
        }
    }

    fn what(self) -> &'static str {
        match self {
            Quantity::Length => "a pixel size",
            Quantity::Time => "a frame interval",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Quantity::Length => "0.65um",
            Quantity::Time => "5min",
        }
    }
}

/// A number with its unit, as a user writes it: `0.65um`, `0.65 µm`,
/// `5min`, `300 s`. The unit must be one of `kind`'s (its short name is
/// kept: `micrometer` and `um` as µm); a bare number, or a unit of another
/// kind or none known, is refused, as is a size or time that is not positive.
///
/// ```
/// use cellstream::ctc::{parse_quantity, Quantity};
/// assert_eq!(parse_quantity("0.65um", Quantity::Length), Ok((0.65, "µm".to_string())));
/// assert_eq!(parse_quantity("5 minutes", Quantity::Time), Ok((5.0, "min".to_string())));
/// assert!(parse_quantity("300", Quantity::Time).unwrap_err().contains("300s"));
/// assert!(parse_quantity("5min", Quantity::Length).unwrap_err().contains("not a length"));
/// assert!(parse_quantity("0min", Quantity::Time).unwrap_err().contains("a frame interval must be positive"));
/// ```
pub fn parse_quantity(text: &str, kind: Quantity) -> std::result::Result<(f64, String), String> {
    let text = text.trim();
    let split = (0..=text.len()).rev().filter(|&i| text.is_char_boundary(i)).find(|&i| text[..i].parse::<f64>().is_ok());
    let Some(i) = split.filter(|&i| i > 0) else {
        return Err(format!("{text:?} is not a number with a unit (e.g. {})", kind.example()));
    };
    let value: f64 = text[..i].parse().expect("parsed above");
    let unit = text[i..].trim();
    if unit.is_empty() {
        let example = match kind {
            Quantity::Length => format!("{value}um"),
            Quantity::Time => format!("{value}s or {value}min"),
        };
        return Err(format!("{text:?} has no unit; give {} with its unit (e.g. {example})", kind.what()));
    }
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("{text:?}: {} must be positive", kind.what()));
    }
    // Full names in any case and plural (`Micrometers`); short ones as written.
    let singular = if unit.len() > 3 { unit.strip_suffix('s').unwrap_or(unit) } else { unit };
    let known = |k: Quantity| {
        k.units().iter().find(|(u, _)| *u == unit || (u.len() > 2 && (u.eq_ignore_ascii_case(unit) || u.eq_ignore_ascii_case(singular)))).map(|(_, short)| short.to_string())
    };
    if let Some(short) = known(kind) {
        return Ok((value, short));
    }
    let other = if kind == Quantity::Length { Quantity::Time } else { Quantity::Length };
    let names: Vec<&str> = kind.units().iter().map(|(_, short)| *short).fold(Vec::new(), |mut v, s| {
        if !v.contains(&s) {
            v.push(s);
        }
        v
    });
    let not = if known(other).is_some() { format!("{unit} is not a {}", if kind == Quantity::Length { "length" } else { "time" }) } else { format!("{unit} is not a unit cellstream knows") };
    Err(format!("{text:?}: {not}; {} takes {}", kind.what(), names.join(", ")))
}

/// A unit as TrackMate shows it: `um`, `micron` and `microns` as µm.
fn micro(unit: String) -> String {
    if matches!(unit.as_str(), "um" | "micron" | "microns") { "µm".to_string() } else { unit }
}

/// The calibration recorded in TIFF `path` (ImageJ's or OME's), each part
/// where it is recorded. A TIFF with no calibration records nothing; a file
/// that is not a TIFF is an error naming it.
pub fn read_calibration(path: &Path) -> Result<Recorded> {
    let mut dec = decoder(path, open(path)?)?;
    let description = dec.get_tag_ascii_string(Tag::ImageDescription).unwrap_or_default();
    let ome = description.contains("<OME");
    let key = |k: &str| -> Option<String> {
        description.lines().find_map(|l| l.strip_prefix(k)).map(|v| v.trim().to_string())
    };
    let attr = |k: &str| -> Option<String> {
        let at = description.find(&format!(" {k}=\""))? + k.len() + 3;
        description[at..].split('"').next().map(str::to_string)
    };
    let space = if ome {
        attr("PhysicalSizeX").and_then(|v| v.parse::<f64>().ok()).filter(|v| *v > 0.0).map(|v| (v, micro(attr("PhysicalSizeXUnit").unwrap_or_else(|| "µm".into()))))
    } else {
        // ImageJ: XResolution is pixels per unit; only with `unit=` is it a calibration (72 dpi is a default).
        let unit = key("unit=").filter(|u| !u.is_empty() && u != "pixel" && u != "pixels");
        let size = match dec.find_tag(Tag::XResolution) {
            Ok(Some(Value::Rational(n, d))) if n > 0 && d > 0 => Some(f64::from(d) / f64::from(n)),
            _ => None,
        };
        unit.zip(size).map(|(u, size)| (size, micro(u)))
    };
    let time = if ome {
        attr("TimeIncrement").and_then(|v| v.parse::<f64>().ok()).filter(|v| *v > 0.0).map(|v| (v, attr("TimeIncrementUnit").unwrap_or_else(|| "s".into())))
    } else {
        key("finterval=").and_then(|v| v.parse::<f64>().ok()).filter(|v| *v > 0.0).map(|v| (v, key("tunit=").unwrap_or_else(|| "sec".into())))
    };
    Ok((space, time))
}
