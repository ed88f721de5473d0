//! Extrinsic clustering metrics over a contingency table of (target, preds) label pairs.
