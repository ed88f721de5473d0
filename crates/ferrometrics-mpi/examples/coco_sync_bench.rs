//! Times a COCO bbox evaluation split over the ranks of `mpirun`: each rank evaluates its block
//! of images, rank 0 gathers and merges the per-image evaluations and computes the summary.
//!
//! ```sh
//! cargo build --release -p ferrometrics-mpi --example coco_sync_bench
//! mpirun -n 4 target/release/examples/coco_sync_bench GT.json DETECTIONS.json
//! ```
//!
//! Rank 0 prints one line per phase with the maximum over ranks (the phase ends when the
//! slowest rank ends), the bytes each rank sends, and the twelve summary numbers.

use std::time::Instant;

use ferrometrics::detection::{evaluate, shard_images, CocoDataset, IouType, Params};
use ferrometrics::distributed::{Communicator, Distributed, SyncState};
use ferrometrics_mpi::mpi::traits::{Communicator as _, CommunicatorCollectives, Root};
use ferrometrics_mpi::MpiCommunicator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, truth_path, results_path] = arguments.as_slice() else {
        return Err("usage: coco_sync_bench GT.json DETECTIONS.json".into());
    };

    let universe = ferrometrics_mpi::mpi::initialize().ok_or("MPI is already initialized")?;
    let communicator = MpiCommunicator::world(&universe);
    let world = communicator.inner();
    let (rank, size) = (communicator.rank(), communicator.size());

    let truth = CocoDataset::from_path(truth_path)?;
    let results = truth.load_results_path(results_path)?;
    let params = Params::default();

    world.barrier();
    let start = Instant::now();
    let (truth_shard, results_shard) = shard_images(&truth, &results, rank, size)?;
    let shard = evaluate(&truth_shard, &results_shard, IouType::Bbox, &params)?;
    let evaluate_seconds = start.elapsed().as_secs_f64();
    let serialize_start = Instant::now();
    let own_state = shard.state_bytes()?;
    let serialize_seconds = serialize_start.elapsed().as_secs_f64();
    let sent_bytes = own_state.len() as u64;

    world.barrier();
    let sync_start = Instant::now();
    let merged = shard.synced_to_root(&communicator)?;
    let sync_seconds = sync_start.elapsed().as_secs_f64();

    let root = world.process_at_rank(0);
    let mut gathered_bytes = vec![0_u64; size];
    let mut gathered_evaluate = vec![0.0_f64; size];
    if rank == 0 {
        root.gather_into_root(&sent_bytes, &mut gathered_bytes[..]);
        root.gather_into_root(&evaluate_seconds, &mut gathered_evaluate[..]);
    } else {
        root.gather_into(&sent_bytes);
        root.gather_into(&evaluate_seconds);
    }

    let Some(merged) = merged else {
        return Ok(());
    };
    // The share of the sync that rank 0 spends on one state: decoding it and appending it.
    let merge_start = Instant::now();
    let mut scratch = shard.empty_copy();
    scratch.merge_bytes(&own_state)?;
    let merge_seconds = merge_start.elapsed().as_secs_f64();

    let accumulate_start = Instant::now();
    let summary = merged.accumulate().summarize();
    let accumulate_seconds = accumulate_start.elapsed().as_secs_f64();

    let slowest_evaluate = gathered_evaluate.iter().copied().fold(0.0, f64::max);
    println!("ranks: {size}");
    println!("evaluate (slowest rank): {slowest_evaluate:.3} s");
    println!("serialize rank 0's state: {serialize_seconds:.3} s");
    println!("decode and merge rank 0's state on rank 0: {merge_seconds:.3} s");
    println!("sync to rank 0 (serialize, gather, decode, merge): {sync_seconds:.3} s");
    println!("accumulate and summarize on rank 0: {accumulate_seconds:.3} s");
    println!(
        "total after loading: {:.3} s",
        slowest_evaluate + sync_seconds + accumulate_seconds
    );
    println!("bytes sent per rank: {gathered_bytes:?}");
    println!("stats: {:?}", summary.stats);
    Ok(())
}
