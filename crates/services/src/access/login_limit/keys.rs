//! What the throttle counts by: an account, a client address and a
//! credential, reduced to small fixed-size keys.

use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;

use super::Attempt;

/// The keys of one attempt.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) struct Keys {
    pub(super) account: u64,
    pub(super) address: u64,
    pub(super) credential: [u8; 32],
}

impl Keys {
    /// This account at this address.
    pub(super) fn pair(&self) -> (u64, u64) {
        (self.account, self.address)
    }

    /// This exact credential from this address.
    pub(super) fn guess(&self) -> (u64, [u8; 32]) {
        (self.address, self.credential)
    }
}

/// Turns names and addresses into keys with a hash keyed at random per
/// process: a username of any length costs eight bytes, and nobody can
/// pick a name whose key collides with another account's.
#[derive(Default)]
pub(super) struct KeyMaker {
    hasher: RandomState,
}

impl KeyMaker {
    pub(super) fn of(&self, attempt: &Attempt<'_>) -> Keys {
        Keys {
            account: self.hasher.hash_one(("account", attempt.account.to_lowercase())),
            address: self.hasher.hash_one(("address", client_network(attempt.address))),
            credential: attempt.credential,
        }
    }
}

/// The network a client address stands for. An IPv6 client usually holds a
/// whole /64 and can pick any address in it, so the /64 is what counts; an
/// IPv4 address mapped into IPv6 is the IPv4 address. Text that is not an
/// address (none should reach here) counts as itself.
fn client_network(address: &str) -> String {
    match address.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Err(_) => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(maker: &KeyMaker, account: &str, address: &str) -> Keys {
        maker.of(&Attempt { account, address, credential: [0; 32] })
    }

    #[test]
    fn accounts_compare_without_case_and_stay_apart_from_addresses() {
        let maker = KeyMaker::default();
        assert_eq!(keys(&maker, "Admin", "10.0.0.1").account, keys(&maker, "admin", "10.0.0.1").account);
        assert_ne!(keys(&maker, "admin", "10.0.0.1").account, keys(&maker, "alice", "10.0.0.1").account);
        let odd = keys(&maker, "10.0.0.1", "10.0.0.1");
        assert_ne!(odd.account, odd.address, "an account named like an address is still an account");
    }

    #[test]
    fn an_ipv6_client_counts_as_its_slash_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(client_network("2001:db8:1:2::1"), client_network("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(client_network("2001:db8:1:2::1"), client_network("2001:db8:1:3::1"));
        assert_eq!(client_network("::ffff:192.0.2.7"), "192.0.2.7");
        assert_ne!(client_network("192.0.2.7"), client_network("192.0.2.8"));
        assert_eq!(client_network("not an address"), "not an address");
    }
}
