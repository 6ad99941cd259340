//! Frame ranges: the time points a command reads, written `A-B`, `A-` or `A`.
use serde::{Deserialize, Serialize};

/// An inclusive range of frame numbers (time points), written `A-B`, `A-`
/// for "from A on", or `A` for frame A alone, as `train`, `track` and
/// `evaluate` take it in `--frames`.
///
/// ```
/// use cellstream::ctc::FrameRange;
/// let r: FrameRange = "35-49".parse().unwrap();
/// assert!(r.contains(35) && r.contains(49) && !r.contains(34) && !r.contains(50));
/// let open: FrameRange = "35-".parse().unwrap();
/// assert!(open.contains(1_000_000) && open.last.is_none());
/// assert_eq!(r.to_string(), "35-49");
/// assert!("49-35".parse::<FrameRange>().is_err());
/// assert_eq!("7".parse::<FrameRange>().unwrap().to_string(), "7-7");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FrameRange {
    pub first: usize,
    pub last: Option<usize>,
}

impl FrameRange {
    /// Whether time point `t` lies in the range.
    pub fn contains(&self, t: usize) -> bool {
        t >= self.first && self.last.is_none_or(|l| t <= l)
    }

    /// Whether `t` lies in `range`, every `t` lying in no range at all (None).
    pub fn admits(range: Option<FrameRange>, t: usize) -> bool {
        range.is_none_or(|r| r.contains(t))
    }
}

impl std::fmt::Display for FrameRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.last {
            Some(l) => write!(f, "{}-{l}", self.first),
            None => write!(f, "{}-", self.first),
        }
    }
}

impl std::str::FromStr for FrameRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("frame range {s:?} is not of the form A-B, A- or A (e.g. 0-34)");
        // One frame alone: `A` is `A-A`.
        let (a, b) = s.trim().split_once('-').unwrap_or((s.trim(), s.trim()));
        let first = a.trim().parse().map_err(|_| bad())?;
        let last = match b.trim() {
            "" => None,
            b => Some(b.parse().map_err(|_| bad())?),
        };
        if last.is_some_and(|l| l < first) {
            return Err(format!("frame range {s:?} ends before it starts"));
        }
        Ok(FrameRange { first, last })
    }
}

impl TryFrom<String> for FrameRange {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<FrameRange> for String {
    fn from(r: FrameRange) -> String {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ranges() {
        assert_eq!("0-34".parse(), Ok(FrameRange { first: 0, last: Some(34) }));
        assert_eq!(" 35- ".parse(), Ok(FrameRange { first: 35, last: None }));
        assert!("34-0".parse::<FrameRange>().unwrap_err().contains("ends before"));
        assert!("x".parse::<FrameRange>().is_err());
        assert!("1-b".parse::<FrameRange>().is_err());
        assert!("-5".parse::<FrameRange>().is_err());
        assert_eq!("5".parse(), Ok(FrameRange { first: 5, last: Some(5) }));
        assert!("".parse::<FrameRange>().is_err());
        let r: FrameRange = "3-5".parse().unwrap();
        assert!(r.contains(3) && r.contains(5) && !r.contains(6) && !r.contains(2));
        assert_eq!(String::from(r), "3-5");
        assert!(FrameRange::admits(None, 7) && !FrameRange::admits(Some(r), 7));
    }
}
