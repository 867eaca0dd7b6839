//! A deterministic multi-GiB byte sequence, generated block by block.

use bytes::Bytes;
use futures::Stream;
use rand::{Rng, SeedableRng};

/// Size of one generated block; see [`generated_block`].
pub const GENERATED_BLOCK: usize = 1 << 20;

/// Block `index` of a deterministic multi-GiB byte sequence: a fixed random
/// block stamped with its index, so content never repeats yet costs one copy.
pub fn generated_block(index: u64) -> Bytes {
    static BASE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let base = BASE.get_or_init(|| {
        let mut v = vec![0u8; GENERATED_BLOCK];
        rand::rngs::StdRng::seed_from_u64(0x0062_6572_7468).fill(&mut v[..]);
        v
    });
    let mut block = base.clone();
    block[..8].copy_from_slice(&index.to_le_bytes());
    Bytes::from(block)
}

/// Blocks `first..first + count` of the generated sequence as a body stream.
pub fn generated_stream(first: u64, count: u64) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::iter((first..first + count).map(|i| Ok(generated_block(i))))
}
