//! Offset pagination as the management API exposes it (`page`, `page_size`,
//! `X-Total-Count`).

/// Which slice of a listing to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: u64,
    pub limit: u32,
}

impl PageRequest {
    /// Everything, for small internal listings.
    pub const ALL: PageRequest = PageRequest { offset: 0, limit: u32::MAX };
}

/// One page of a listing and the size of the whole listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
}
