import subprocess

import pytest

from seq2seq_jax.data import sources
from seq2seq_jax.data.sources import DataError

GT = "cmu_mocap/subject_86/segmentation_ground_truth/01_ground_truth.txt"


def test_git_blob_id_matches_git(tmp_path):
    f = tmp_path / "x.txt"
    f.write_bytes(b"hello\nworld\x00\xff")
    want = subprocess.run(["git", "hash-object", str(f)], capture_output=True, text=True, check=True).stdout.strip()
    assert sources.git_blob_id(f) == want


def test_manifest_lists_trials_with_urls(mirror):
    e = sources.manifest()["cmu_mocap/subject_86/expmap/02.mat"]
    assert e.repo == "shlizee/interpretseq2seq"
    assert e.url.endswith("/shlizee/interpretseq2seq/master/data/cmu_mocap/subject_86/expmap/02.mat")
    amc = sources.manifest()["cmu_amc/subject_86/86_05.amc"]
    assert amc.url.endswith("/zhfe99/aca/master/data/moc/86/86_05.amc")
    if mirror is not None and (mirror / "MANIFEST.tsv").is_file():  # the data's own list: every file, same ids
        rows = [ln.split("\t") for ln in (mirror / "MANIFEST.tsv").read_text().splitlines()[1:] if ln]
        assert {r[0]: r[1] for r in rows} == {k: v.blob for k, v in sources.manifest().items()}


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(sources.ENV_DATA, raising=False)
    assert sources.data_root() == sources.DEFAULT_DATA_DIR
    monkeypatch.setenv(sources.ENV_DATA, str(tmp_path / "env"))
    assert sources.data_root() == tmp_path / "env"
    assert sources.data_root(tmp_path / "flag") == tmp_path / "flag"


def test_fetch_from_mirror_verifies_and_copies(tmp_path, mirror):
    if mirror is None:
        pytest.skip("no local mirror")
    got = sources.fetch(GT, tmp_path, mirror)
    assert got == tmp_path / GT
    assert got.read_bytes() == (mirror / GT).read_bytes()
    assert list(got.parent.glob("*.part")) == []


def _fake_mirror(tmp_path, content: bytes):
    m = tmp_path / "mirror"
    (m / GT).parent.mkdir(parents=True)
    (m / GT).write_bytes(content)
    return m


def test_corrupt_mirror_file_never_reaches_the_data_root(tmp_path):
    m = _fake_mirror(tmp_path, b"7\n1 walking\n500 550 600\n")
    root = tmp_path / "root"
    with pytest.raises(DataError, match="corrupt.*discarded.*download it by hand from https://"):
        sources.fetch(GT, root, m)
    assert not (root / GT).exists()
    assert list((root / GT).parent.iterdir()) == []


def test_file_missing_from_mirror_names_it_and_the_url(tmp_path):
    m = tmp_path / "empty"
    m.mkdir()
    with pytest.raises(DataError, match=r"02\.mat is not in the local mirror.*raw\.githubusercontent\.com/shlizee"):
        sources.fetch("cmu_mocap/subject_86/expmap/02.mat", tmp_path / "root", m)


def test_unknown_file_is_refused(tmp_path):
    with pytest.raises(DataError, match="not in the manifest"):
        sources.fetch("cmu_mocap/nope.txt", tmp_path)


def test_failed_and_partial_downloads(tmp_path, monkeypatch, mirror):
    monkeypatch.delenv(sources.ENV_MIRROR, raising=False)
    root = tmp_path / "root"

    def partial(url, dst, timeout=60.0):
        dst.write(b"7\n1 walk")  # the connection dropped

    monkeypatch.setattr(sources, "_download", partial)
    with pytest.raises(DataError, match="corrupt"):
        sources.fetch(GT, root)
    assert not (root / GT).exists() and list((root / GT).parent.iterdir()) == []

    def offline(url, dst, timeout=60.0):
        raise OSError("network unreachable")

    monkeypatch.setattr(sources, "_download", offline)
    with pytest.raises(DataError, match="downloading .* failed .*network unreachable.*place it at"):
        sources.fetch(GT, root)

    if mirror is not None:  # a good download goes through
        monkeypatch.setattr(sources, "_download", lambda url, dst, timeout=60.0: dst.write((mirror / GT).read_bytes()))
        assert sources.fetch(GT, root).read_bytes() == (mirror / GT).read_bytes()


def test_corrupt_file_in_data_root_is_reported(tmp_path):
    root = tmp_path / "root"
    (root / GT).parent.mkdir(parents=True)
    (root / GT).write_text("garbage")
    with pytest.raises(DataError, match="corrupt.*delete"):
        sources.fetch(GT, root)
    assert (root / GT).read_text() == "garbage"  # nothing of the user's is removed
