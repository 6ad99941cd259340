//! cellstream: stream Cell Tracking Challenge time-lapses through segmentation,
//! linking and evaluation.
//!
//! The modules follow the data's path: [`ctc`] reads frames and writes results,
//! [`simulate`] makes sequences with ground truth, [`eval`] scores results.
pub mod cli;
pub mod ctc;
pub mod model;
