//! A real OpenLDAP `slapd` on a free loopback port, for tests of LDAP login.
//!
//! Configured with a classic `slapd.conf` passed via `-f`: a single text file
//! needs no `slapadd -n0` step and no cn=config tree, and slapd 2.5/2.6 still
//! support it fully. Everything (config, MDB database, pid file, log) lives in
//! one temporary directory, so several instances can run side by side.

use std::fs::File;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rand::distributions::Alphanumeric;
use rand::Rng;

const SLAPD: &str = "/usr/sbin/slapd";
/// Also in /usr/sbin, which is not on a normal user's PATH.
const SLAPPASSWD: &str = "/usr/sbin/slappasswd";
/// Debian ships backends and overlays as loadable modules.
const MODULE_DIR: &str = "/usr/lib/ldap";
const SCHEMA_DIR: &str = "/etc/ldap/schema";
const INSTALL_HINT: &str = "install it with `apt-get install slapd ldap-utils`";

/// A running `slapd` seeded with `ou=people` and `ou=groups`.
///
/// The process is killed and its directory removed when this value drops.
/// Anonymous clients may search (as many real directories allow) but can only
/// use `userPassword` to authenticate, so tests see realistic ACL behaviour.
pub struct Slapd {
    /// `ldap://127.0.0.1:PORT`.
    pub url: String,
    pub port: u16,
    /// `dc=berth,dc=test`.
    pub base_dn: String,
    /// The rootdn, which bypasses ACLs: use it as a service (search) account.
    pub admin_dn: String,
    /// Random per instance, so a readiness probe can tell our server apart
    /// from another test's slapd that grabbed the same port.
    pub admin_password: String,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Slapd {
    /// Starts slapd with a fresh config and MDB database in a temp dir on a
    /// free 127.0.0.1 port, waits until it answers, and loads the seed data.
    pub fn start() -> Result<Slapd> {
        if !Path::new(SLAPD).exists() {
            bail!("{SLAPD} not found: {INSTALL_HINT}");
        }
        let dir = tempfile::Builder::new().prefix("berth-slapd-").tempdir()?;
        std::fs::create_dir(dir.path().join("db"))?;
        let base_dn = "dc=berth,dc=test".to_string();
        let admin_password: String = rand::thread_rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect();
        let mut slapd = Slapd {
            url: String::new(),
            port: 0,
            admin_dn: format!("cn=admin,{base_dn}"),
            base_dn,
            admin_password,
            child: None,
            dir,
        };
        std::fs::write(slapd.dir.path().join("slapd.conf"), slapd.config())?;
        // The port is free when we probe it but another process may take it
        // before slapd binds; slapd then exits and we try another port.
        for _ in 0..5 {
            if slapd.spawn()? {
                slapd.seed()?;
                return Ok(slapd);
            }
        }
        bail!("slapd could not bind a free port after 5 tries; log:\n{}", slapd.log())
    }

    fn config(&self) -> String {
        let d = self.dir.path().display();
        let schemas: String = ["core", "cosine", "inetorgperson", "nis"]
            .iter()
            .map(|s| format!("include {SCHEMA_DIR}/{s}.schema\n"))
            .collect();
        format!(
            "{schemas}\
             pidfile {d}/slapd.pid\n\
             argsfile {d}/slapd.args\n\
             modulepath {MODULE_DIR}\n\
             moduleload back_mdb\n\
             moduleload memberof\n\
             database mdb\n\
             maxsize 67108864\n\
             suffix \"{base}\"\n\
             rootdn \"{admin}\"\n\
             rootpw {pw}\n\
             directory {d}/db\n\
             overlay memberof\n\
             memberof-refint TRUE\n\
             access to attrs=userPassword\n  by self write\n  by anonymous auth\n  by * none\n\
             access to *\n  by * read\n",
            base = self.base_dn,
            admin = self.admin_dn,
            pw = self.admin_password,
        )
    }

    /// Returns `Ok(false)` when slapd lost the race for the port.
    fn spawn(&mut self) -> Result<bool> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port();
        self.port = port;
        self.url = format!("ldap://127.0.0.1:{port}");
        let log = File::create(self.log_path())?;
        // `-d` keeps slapd in the foreground so we own the process; `stats`
        // logs each bind and search, which is what a failing login test needs.
        let child = Command::new(SLAPD)
            .args(["-d", "stats", "-f"])
            .arg(self.dir.path().join("slapd.conf"))
            .arg("-h")
            .arg(format!("{}/", self.url))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {SLAPD}"))?;
        // Owned by `self` from here on, so an early return still kills it.
        self.child = Some(child);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().context("no child")?.try_wait()? {
                self.child = None;
                if self.log().contains("errno=98") {
                    return Ok(false);
                }
                bail!("slapd exited with {status}; log:\n{}", self.log());
            }
            // Only a bind with our random password proves that *our* slapd answers.
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                && self
                    .cli("ldapwhoami")
                    .args(["-D", &self.admin_dn, "-w", &self.admin_password])
                    .output()
                    .map_err(|e| not_found_hint(e, "ldapwhoami"))?
                    .status
                    .success()
            {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("slapd did not answer on {} within 20s; log:\n{}", self.url, self.log())
    }

    fn seed(&self) -> Result<()> {
        let b = &self.base_dn;
        self.ldapadd(&format!(
            "dn: {b}\nobjectClass: dcObject\nobjectClass: organization\ndc: berth\no: Berth test\n\n\
             dn: ou=people,{b}\nobjectClass: organizationalUnit\nou: people\n\n\
             dn: ou=groups,{b}\nobjectClass: organizationalUnit\nou: groups\n"
        ))
    }

    /// A `ldapsearch`/`ldapwhoami`/... command already pointed at this server
    /// with simple auth; `LDAPNOINIT` keeps the host's ldap.conf (which may name
    /// another server or TLS settings) out of the test.
    pub fn cli(&self, tool: &str) -> Command {
        let mut cmd = Command::new(tool);
        cmd.env("LDAPNOINIT", "1").args(["-x", "-H", &self.url]).stdin(Stdio::null());
        cmd
    }

    /// Adds a person with an `{SSHA}` password, as a real directory would
    /// store it, so the bind exercises slapd's hash check.
    pub fn add_user(&self, uid: &str, password: &str) -> Result<()> {
        check_name(uid)?;
        let hash = ssha(password)?;
        self.ldapadd(&format!(
            "dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\nmail: {uid}@berth.test\n\
             userPassword: {hash}\n",
            dn = self.user_dn(uid),
        ))
    }

    /// Adds a person named `cn={key}` whose `uid` is any UTF-8 text
    /// (base64 in the LDIF, so control and invisible characters survive),
    /// for tests of what a directory may hand over as a username.
    pub fn add_user_with_uid(&self, key: &str, uid: &str, password: &str) -> Result<()> {
        use base64::Engine as _;
        check_name(key)?;
        let hash = ssha(password)?;
        let uid = base64::engine::general_purpose::STANDARD.encode(uid);
        self.ldapadd(&format!(
            "dn: cn={key},ou=people,{base}\nobjectClass: inetOrgPerson\nuid:: {uid}\ncn: {key}\nsn: {key}\n\
             userPassword: {hash}\n",
            base = self.base_dn,
        ))
    }

    /// Adds a `groupOfNames` whose `member`s are the given users; the
    /// memberof overlay then sets `memberOf` on them, so both group-search and
    /// memberOf styles of group lookup can be tested against one directory.
    pub fn add_group(&self, name: &str, member_uids: &[&str]) -> Result<()> {
        check_name(name)?;
        let mut ldif = format!("dn: {}\nobjectClass: groupOfNames\ncn: {name}\n", self.group_dn(name));
        for uid in member_uids {
            check_name(uid)?;
            ldif.push_str(&format!("member: {}\n", self.user_dn(uid)));
        }
        if member_uids.is_empty() {
            // groupOfNames requires a member; the empty DN names nobody.
            ldif.push_str("member:\n");
        }
        self.ldapadd(&ldif)
    }

    /// The DN of a user uid.
    /// Berth's LDAP settings for this server (`PUT /api/v2.0/configurations`):
    /// people under `ou=people`, groups under `ou=groups`, the rootdn as the
    /// search account and `berth-admins` as the admin group.
    pub fn berth_settings(&self) -> serde_json::Value {
        serde_json::json!({
            "ldap_url": self.url,
            "ldap_base_dn": format!("ou=people,{}", self.base_dn),
            "ldap_search_dn": self.admin_dn,
            "ldap_search_password": self.admin_password,
            "ldap_uid": "uid",
            "ldap_filter": "(objectClass=inetOrgPerson)",
            "ldap_scope": 2,
            "ldap_group_base_dn": format!("ou=groups,{}", self.base_dn),
            "ldap_group_admin_dn": self.group_dn("berth-admins"),
        })
    }

    pub fn user_dn(&self, uid: &str) -> String {
        format!("uid={uid},ou=people,{}", self.base_dn)
    }

    /// The DN of a group name.
    pub fn group_dn(&self, name: &str) -> String {
        format!("cn={name},ou=groups,{}", self.base_dn)
    }

    /// Everything slapd logged so far (bind and search results included).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The OS process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("slapd.log")
    }

    fn ldapadd(&self, ldif: &str) -> Result<()> {
        let mut child = self
            .cli("ldapadd")
            .args(["-D", &self.admin_dn, "-w", &self.admin_password])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| not_found_hint(e, "ldapadd"))?;
        child.stdin.take().context("no stdin")?.write_all(ldif.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "ldapadd failed ({}): {}\nLDIF:\n{ldif}\nslapd log:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr),
                self.log()
            );
        }
        Ok(())
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!("---- slapd log ----\n{}", self.log());
        }
    }
}

/// Names go into DNs and LDIF unescaped; refusing odd characters is simpler
/// and clearer than DN escaping plus base64 LDIF values.
/// `password` hashed as `{SSHA}`, the way a real directory stores it.
fn ssha(password: &str) -> Result<String> {
    let out = run(Command::new(SLAPPASSWD).args(["-h", "{SSHA}", "-s", password]))?;
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !ok {
        bail!("LDAP fixture names must be [A-Za-z0-9._-]+, got {name:?}");
    }
    Ok(())
}

fn not_found_hint(e: std::io::Error, tool: &str) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        anyhow::anyhow!("{tool} not found: {INSTALL_HINT}")
    } else {
        anyhow::Error::new(e).context(format!("running {tool}"))
    }
}

fn run(cmd: &mut Command) -> Result<Output> {
    let tool = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|e| not_found_hint(e, &tool))?;
    if !out.status.success() {
        bail!("{tool} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    Ok(out)
}
