"""Reads the OCI archive that `cargo xtask package --image` wrote, for deploy_image.rs, with
nothing but the standard library: the image's configuration (entrypoint, command, PATH,
platform), its one layer (exactly the vipd binary, executable, statically linked), and unpacks
that layer into ROOTFS so the test can run the image's contents in a root with nothing else.

Usage: check_image.py ARCHIVE ROOTFS
Exits 1 with every problem on stderr.
"""
import io
import json
import pathlib
import struct
import sys
import tarfile

BINARY = "usr/local/sbin/vipd"
PT_INTERP = 3

problems = []


def blob(archive, digest):
    algorithm, hexdigest = digest.split(":", 1)
    return archive.extractfile(f"blobs/{algorithm}/{hexdigest}").read()


def has_interpreter(elf):
    if elf[:6] != b"\x7fELF\x02\x01":
        problems.append(f"{BINARY} is not a 64-bit little-endian ELF file")
        return False
    (phoff,) = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    return any(struct.unpack_from("<I", elf, phoff + i * phentsize)[0] == PT_INTERP for i in range(phnum))


def main():
    archive_path, rootfs = sys.argv[1], pathlib.Path(sys.argv[2])
    with tarfile.open(archive_path) as archive:
        layout = json.loads(archive.extractfile("oci-layout").read())
        if layout.get("imageLayoutVersion") != "1.0.0":
            problems.append(f"oci-layout: {layout}")
        index = json.loads(archive.extractfile("index.json").read())
        manifests = index.get("manifests", [])
        if len(manifests) != 1:
            problems.append(f"index.json: expected one manifest, found {len(manifests)}")
        manifest = json.loads(blob(archive, manifests[0]["digest"]))
        config = json.loads(blob(archive, manifest["config"]["digest"]))
        if (config.get("os"), config.get("architecture")) != ("linux", "amd64"):
            problems.append(f"platform {config.get('os')}/{config.get('architecture')}")
        run = config.get("config", {})
        if run.get("Entrypoint") != ["/" + BINARY]:
            problems.append(f"Entrypoint {run.get('Entrypoint')}")
        if run.get("Cmd") != ["run", "--config", "/etc/vipd/vipd.toml"]:
            problems.append(f"Cmd {run.get('Cmd')}")
        if not any(e.startswith("PATH=/usr/local/sbin:") for e in run.get("Env", [])):
            problems.append(f"Env {run.get('Env')} has no PATH with /usr/local/sbin")
        if run.get("User", "") not in ("", "0", "root"):
            problems.append(f"User {run.get('User')}: vipd runs as root with the pod's capabilities")
        layers = manifest.get("layers", [])
        if len(layers) != 1:
            problems.append(f"expected one layer (FROM scratch, one COPY), found {len(layers)}")
        layer = tarfile.open(fileobj=io.BytesIO(blob(archive, layers[0]["digest"])))
        files = [m for m in layer.getmembers() if not m.isdir()]
        names = sorted(m.name.lstrip("./") for m in files)
        if names != [BINARY]:
            problems.append(f"the layer must hold only {BINARY}, found {names}")
        else:
            member = files[0]
            if not member.isfile() or member.mode & 0o111 == 0:
                problems.append(f"{BINARY} is not an executable file (mode {oct(member.mode)})")
            elf = layer.extractfile(member).read()
            if has_interpreter(elf):
                problems.append(f"{BINARY} is dynamically linked; an empty image cannot run it")
            target = rootfs / BINARY
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(elf)
            target.chmod(0o755)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"layers={len(layers)}")
    print(f"binary_bytes={len(elf)}")


if __name__ == "__main__":
    main()
