//! Channels picked by the name the file gives them (`--channel DAPI`): NDTiff, OME-Zarr and OME-TIFF.
//!
//! Micro-Manager's NDTiff index names each image's channel (`"channel":
//! "DAPI"`), an OME-Zarr image its channels in `omero.channels[].label`,
//! and an OME-TIFF in `<Channel Name="DAPI">` of its OME-XML. [`ChannelArg`]
//! is what `--channel` takes, a number counted from 1 (as Fiji counts) or
//! such a name, and [`ChannelArg::number_in`] turns a name into the number
//! of that channel in the input, which the readers take.
use std::path::Path;
use std::str::FromStr;

use super::error::{CtcError, Result};
use super::ndtiff::{is_ndtiff, ndtiff_channel_names};
use super::zarr::{is_zarr, zarr_channel_names};

/// A channel as `--channel` gives it: its number, counted from 1, or its name.
///
/// ```
/// use cellstream::ctc::ChannelArg;
/// assert_eq!("2".parse(), Ok(ChannelArg::Number(2)));
/// assert_eq!("DAPI".parse(), Ok(ChannelArg::Name("DAPI".into())));
/// assert!("0".parse::<ChannelArg>().unwrap_err().contains("from 1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelArg {
    Number(usize),
    Name(String),
}

impl FromStr for ChannelArg {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<ChannelArg, String> {
        match s.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(ChannelArg::Number(n as usize)),
            Ok(_) => Err(format!("{s} is not a channel number: channels count from 1 (the first channel is 1, as in Fiji)")),
            Err(_) if s.trim().is_empty() => Err("a channel is a number from 1 or the name the file gives it (DAPI)".to_string()),
            Err(_) => Ok(ChannelArg::Name(s.to_string())),
        }
    }
}

impl std::fmt::Display for ChannelArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChannelArg::Number(n) => write!(f, "{n}"),
            ChannelArg::Name(s) => f.write_str(s),
        }
    }
}

impl ChannelArg {
    /// The channel's number in `path`, counted from 1: the number itself,
    /// or the place of the name among the channels the input names
    /// ([`channel_names`]); an input that names none, or none so, is an
    /// error that lists what it has.
    pub fn number_in(&self, path: &Path) -> Result<usize> {
        match self {
            ChannelArg::Number(n) => Ok(*n),
            ChannelArg::Name(name) => match channel_names(path)? {
                None => Err(CtcError::new(path, format!("names no channels; give the channel by its number (--channel 1 for the first), not as {name:?}"))),
                Some(names) => number_named(path, &names, name),
            },
        }
    }
}

/// The number, from 1, of the channel `name` among `names`: an exact match,
/// else the only one equal but for case.
pub(super) fn number_named(path: &Path, names: &[String], name: &str) -> Result<usize> {
    if let Some(i) = names.iter().position(|n| n == name) {
        return Ok(i + 1);
    }
    let folded: Vec<usize> = (0..names.len()).filter(|&i| names[i].eq_ignore_ascii_case(name)).collect();
    if let [i] = folded[..] {
        return Ok(i + 1);
    }
    let listed: Vec<String> = names.iter().enumerate().map(|(i, n)| format!("{}: {n}", i + 1)).collect();
    Err(CtcError::new(path, format!("has no channel named {name:?}; its channels are {}", listed.join(", "))))
}

/// The names an input gives its channels, in its order, where it gives
/// them: an NDTiff acquisition's channel axis, an OME-Zarr image's
/// `omero.channels[].label` or an OME-TIFF's `<Channel Name=…>`. `None`
/// for inputs that name none (a folder of TIFFs, an ImageJ hyperstack).
pub fn channel_names(path: &Path) -> Result<Option<Vec<String>>> {
    if is_ndtiff(path) {
        let names = ndtiff_channel_names(path)?;
        return Ok((!names.is_empty()).then_some(names));
    }
    if is_zarr(path) {
        return zarr_channel_names(path);
    }
    if path.is_file() {
        return Ok(ome_tiff_channel_names(&super::tiff_io::description(path)?));
    }
    Ok(None)
}

/// The `Name` of each `<Channel>` of an OME-XML description's first image,
/// in order; `None` if it has no channels or one lacks a name.
fn ome_tiff_channel_names(description: &str) -> Option<Vec<String>> {
    let image = description.split("</Image>").next()?;
    let names: Option<Vec<String>> = image
        .split("<Channel")
        .skip(1)
        .filter(|rest| rest.starts_with(' ') || rest.starts_with('>') || rest.starts_with('/'))
        .map(|rest| {
            let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
            let at = tag.find(" Name=\"")? + 7;
            let end = tag[at..].find('"')?;
            Some(unescape(&tag[at..at + end]))
        })
        .collect();
    names.filter(|n| !n.is_empty())
}

/// XML's five entities in an attribute value.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ome_xml_channel_names_are_read_in_order() {
        let xml = r#"<OME><Image ID="Image:0"><Pixels SizeC="2"><Channel ID="Channel:0:0" Name="DAPI" SamplesPerPixel="1"/><Channel ID="Channel:0:1" Name="GFP &amp; more"><LightPath/></Channel></Pixels></Image><Image><Pixels><Channel Name="other"/></Pixels></Image></OME>"#;
        assert_eq!(ome_tiff_channel_names(xml), Some(vec!["DAPI".to_string(), "GFP & more".to_string()]));
        assert_eq!(ome_tiff_channel_names(r#"<OME><Image><Pixels><Channel ID="c0"/></Pixels></Image></OME>"#), None);
        assert_eq!(ome_tiff_channel_names("ImageJ=1.54f\nchannels=2\n"), None);
    }

    #[test]
    fn names_match_exactly_or_but_for_case() {
        let names: Vec<String> = ["DAPI", "GFP", "gfp2"].map(String::from).to_vec();
        let p = Path::new("acq_1");
        assert_eq!(number_named(p, &names, "GFP").unwrap(), 2);
        assert_eq!(number_named(p, &names, "dapi").unwrap(), 1);
        let e = number_named(p, &names, "mCherry").unwrap_err();
        assert!(e.what.contains("no channel named \"mCherry\"; its channels are 1: DAPI, 2: GFP, 3: gfp2"), "{e}");
    }
}
