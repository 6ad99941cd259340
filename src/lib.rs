//! cellstream: stream Cell Tracking Challenge time-lapses through segmentation,
//! linking and evaluation.
//!
//! The modules follow the data's path: [`ctc`] reads frames and writes results,
//! [`model`] segments with a ConvLSTM-UNet, [`link`] links instances into
//! tracks and lineages, [`simulate`] makes sequences with ground truth,
//! [`eval`] scores results, and [`export`] writes them for napari and
//! TrackMate.
pub mod cli;
pub mod ctc;
pub mod eval;
pub mod export;
pub mod link;
pub mod measure;
pub mod model;
pub mod pipeline;
pub mod post;
pub mod render;
pub mod run_record;
pub mod segment;
pub mod simulate;
pub mod track;
