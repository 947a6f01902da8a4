"""Throwaway X.509 material for TLS tests, made with the `openssl` command line in a
temporary folder: a test CA, server certificates it signs for given DNS names, IP
addresses and URIs, and a second CA that nobody trusts.

    pki = TestPki()                      # CA + untrusted CA + the usual server certificates
    pki.ca.cert_path                     # give this to the client as ca_file
    pki.server                           # for sip.example.test, 127.0.0.1 and ::1
    pki.wrong_name                       # valid chain, but only for wrong.example.test
    pki.untrusted                        # right name, signed by the untrusted CA
    pki.expired                          # like server, but its validity ended yesterday
    pki.cleanup()

Keys are EC P-256 (fast to make); certificates live two days, so clock skew cannot make
a fresh one "not yet valid" or expired during a run."""
import datetime
import ipaddress
import os
import shutil
import subprocess
import tempfile

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
VALID_DAYS = 2
# The names the usual server certificate is made for.
SERVER_NAME = "sip.example.test"
WRONG_NAME = "wrong.example.test"


class CertError(RuntimeError):
    pass


def _run(args, cwd):
    r = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise CertError(f"openssl {' '.join(args)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def _safe_name(name):
    return "".join(c if c.isalnum() or c in "-." else "_" for c in name)


class Certificate:
    """A certificate and its private key as PEM files (the key unencrypted)."""

    def __init__(self, cert_path, key_path, dns_names=(), ips=(), uris=(), issuer=None):
        self.cert_path = cert_path
        self.key_path = key_path
        self.dns_names = list(dns_names)
        self.ips = list(ips)
        self.uris = list(uris)
        self.issuer = issuer

    def text(self):
        """`openssl x509 -text` of the certificate, for diagnostics and assertions."""
        return _run(["x509", "-in", self.cert_path, "-noout", "-text"], os.path.dirname(self.cert_path))

    def __repr__(self):
        return f"Certificate({self.cert_path}, dns={self.dns_names}, ip={self.ips}, uri={self.uris})"


class CertAuthority:
    """A self-signed CA in `folder` that issues server (and client) certificates."""

    def __init__(self, folder, name="sipregd test CA"):
        self.folder = folder
        self.name = name
        base = _safe_name(name)
        self.cert_path = os.path.join(folder, f"{base}.ca.pem")
        self.key_path = os.path.join(folder, f"{base}.ca.key")
        _run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", self.key_path, "-out", self.cert_path, "-days", str(VALID_DAYS),
              "-subj", f"/O=sipregd tests/CN={name}",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign",
              "-addext", "subjectKeyIdentifier=hash"], folder)

    def issue(self, file_name, *, dns_names=(), ips=(), uris=(), common_name=None, client=False,
              not_before=None, not_after=None):
        """A leaf certificate with the given subjectAltName entries (DNS names, IP
        addresses, URIs such as "sip:example.test"). `common_name` defaults to the first
        DNS name. `client` adds clientAuth to the extended key usage. `not_before` and
        `not_after` (aware datetimes, both or neither) set the validity instead of "now
        for VALID_DAYS", e.g. to make an expired certificate."""
        if (not_before is None) != (not_after is None):
            raise ValueError("give both not_before and not_after, or neither")
        if not (dns_names or ips or uris or common_name):
            raise ValueError("a certificate needs at least one name")
        base = os.path.join(self.folder, _safe_name(file_name))
        key_path, csr_path, cert_path, ext_path = (base + ".key", base + ".csr", base + ".pem", base + ".ext")
        cn = common_name or (dns_names[0] if dns_names else (ips[0] if ips else "sipregd test leaf"))
        san = ([f"DNS:{n}" for n in dns_names] + [f"IP:{ipaddress.ip_address(a)}" for a in ips]
               + [f"URI:{u}" for u in uris])
        usage = "serverAuth,clientAuth" if client else "serverAuth"
        with open(ext_path, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    f"extendedKeyUsage={usage}\n"
                    "authorityKeyIdentifier=keyid\n")
            if san:
                f.write(f"subjectAltName={','.join(san)}\n")
        _run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", key_path, "-out", csr_path, "-subj", f"/O=sipregd tests/CN={cn}"], self.folder)
        if not_before is None:
            _run(["x509", "-req", "-in", csr_path, "-CA", self.cert_path, "-CAkey", self.key_path,
                  "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", str(VALID_DAYS),
                  "-extfile", ext_path, "-out", cert_path], self.folder)
        else:
            self._sign_with_dates(csr_path, ext_path, cert_path, not_before, not_after)
        return Certificate(cert_path, key_path, dns_names, ips, uris, issuer=self)

    def _sign_with_dates(self, csr_path, ext_path, cert_path, not_before, not_after):
        """`openssl x509 -req` of OpenSSL 3.0 only counts days from now; `openssl ca`
        takes explicit dates but wants a small database, kept beside the CA."""
        db = os.path.join(self.folder, _safe_name(self.name) + ".db")
        os.makedirs(db, exist_ok=True)
        index = os.path.join(db, "index.txt")
        if not os.path.exists(index):
            open(index, "w").close()
        with open(os.path.join(db, "serial"), "w") as f:
            f.write(os.urandom(8).hex() + "\n")
        cnf = os.path.join(db, "ca.cnf")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca = test_ca\n"
                    f"[test_ca]\ndatabase = {index}\nnew_certs_dir = {db}\nserial = {db}/serial\n"
                    "default_md = sha256\npolicy = any\nunique_subject = no\n"
                    "[any]\norganizationName = optional\ncommonName = supplied\n")

        def stamp(t):
            return t.astimezone(datetime.timezone.utc).strftime("%Y%m%d%H%M%SZ")

        _run(["ca", "-batch", "-config", cnf, "-cert", self.cert_path, "-keyfile", self.key_path,
              "-in", csr_path, "-out", cert_path, "-notext", "-extfile", ext_path,
              "-startdate", stamp(not_before), "-enddate", stamp(not_after)], self.folder)

    def verify(self, cert, hostname=None, ip=None):
        """Runs `openssl verify` of `cert` against this CA; returns (ok, output)."""
        args = ["verify", "-CAfile", self.cert_path]
        if hostname:
            args += ["-verify_hostname", hostname]
        if ip:
            args += ["-verify_ip", ip]
        args.append(cert.cert_path)
        r = subprocess.run([OPENSSL, *args], cwd=self.folder, capture_output=True, text=True, timeout=30)
        return r.returncode == 0, r.stdout + r.stderr


class TestPki:
    """The set most TLS tests need, in one temporary folder:
    - `ca`: the CA the client trusts;
    - `server`: signed by `ca` for SERVER_NAME, 127.0.0.1 and ::1 (and URI sip:SERVER_NAME);
    - `wrong_name`: signed by `ca`, but only for WRONG_NAME;
    - `untrusted_ca` and `untrusted`: a second CA and a certificate it signs for the same
      names as `server`;
    - `client`: a client certificate signed by `ca` (for cert_file/key_file)."""

    def __init__(self, extra_dns_names=()):
        self.dir = tempfile.mkdtemp(prefix="sipreg-pki-")
        self._expired = None
        try:
            self.ca = CertAuthority(self.dir, "sipregd test CA")
            self.untrusted_ca = CertAuthority(self.dir, "sipregd untrusted CA")
            names = [SERVER_NAME, *extra_dns_names]
            self.server = self.ca.issue("server", dns_names=names, ips=["127.0.0.1", "::1"],
                                        uris=[f"sip:{SERVER_NAME}"])
            self.wrong_name = self.ca.issue("wrong-name", dns_names=[WRONG_NAME])
            self.untrusted = self.untrusted_ca.issue("untrusted", dns_names=names, ips=["127.0.0.1", "::1"])
            self.client = self.ca.issue("client", dns_names=["client.example.test"], client=True)
        except Exception:
            self.cleanup()
            raise

    @property
    def expired(self):
        """Signed by `ca` for the same names as `server`, but valid only from three days
        ago until yesterday (made on first use)."""
        if self._expired is None:
            now = datetime.datetime.now(datetime.timezone.utc)
            self._expired = self.ca.issue("expired", dns_names=[SERVER_NAME], ips=["127.0.0.1", "::1"],
                                          not_before=now - datetime.timedelta(days=3),
                                          not_after=now - datetime.timedelta(days=1))
        return self._expired

    def cleanup(self):
        if self.dir and os.environ.get("SIPREG_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
