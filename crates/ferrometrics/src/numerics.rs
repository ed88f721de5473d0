//! Shared numerics: summation, safe division, entropy.
