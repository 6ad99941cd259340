//! The Cell Tracking Challenge format: frames, masks, track files, result folders.
//!
//! Everything that touches CTC files on disk lives here; the other stages see
//! only [`Frame`]s, [`Mask`]s and [`TrackRecord`]s.
mod error;
mod sequence;
mod tiff_io;
mod track_file;
mod validate;
mod writer;

pub use error::{CtcError, Result};
pub use sequence::{
    FrameFiles, ResultDir, Sequence, Truth, list_frame_files, list_numbered_tiffs, parse_frame_name,
};
pub use tiff_io::{
    Frame, Mask, decode_frame, decode_mask, read_frame, read_mask, read_mask_with_bits,
    write_atomic, write_frame, write_mask,
};
pub use track_file::{TrackRecord, parse_tracks, read_tracks, write_tracks};
pub use validate::{Violation, validate_result, validate_tracks};
pub use writer::{RUN_RECORD, ResultWriter, StagedFolder, refuse_truth_folder};
