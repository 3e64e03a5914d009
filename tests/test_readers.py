import numpy as np
import pytest
import scipy.io

from seq2seq_jax.data import readers
from seq2seq_jax.data.sources import DataError


def _write(tmp_path, rows, name="clip.txt"):
    p = tmp_path / name
    p.write_text("\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return p


def test_reads_cmu_text(tmp_path):
    x = np.arange(3 * 117, dtype=np.float32).reshape(3, 117) / 7
    got = readers.read_expmap_txt(_write(tmp_path, x))
    assert got.dtype == np.float32 and got.shape == (3, 117)
    np.testing.assert_allclose(got, x, rtol=1e-6)


def test_h36m_takes_every_second_frame(tmp_path):
    x = np.arange(5 * 99, dtype=np.float32).reshape(5, 99)
    got = readers.read_h36m_txt(_write(tmp_path, x))
    np.testing.assert_array_equal(got, x[::2])
    with pytest.raises(DataError, match="99"):
        readers.read_h36m_txt(_write(tmp_path, np.zeros((2, 117)), "cmu.txt"))


@pytest.mark.parametrize(
    "bad,match",
    [
        ("1,2,x", r"line 2: 'x' is not a number"),
        ("1,2", r"line 2 has 2 values, expected 3 \(the file may be truncated\)"),
        ("1,2,3,4", r"line 2 has 4 values, expected 3"),
        ("1,nan,3", r"line 2, column 2: non-finite"),
        ("1,2,inf", r"line 2, column 3: non-finite"),
    ],
)
def test_bad_text_lines_name_file_and_line(tmp_path, bad, match):
    p = tmp_path / "bad.txt"
    p.write_text("1,2,3\n" + bad + "\n4,5,6\n")
    with pytest.raises(DataError, match=match) as e:
        readers.read_expmap_txt(p, n_values=3)
    assert "bad.txt" in str(e.value)


def test_empty_text_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text("\n")
    with pytest.raises(DataError, match="empty"):
        readers.read_expmap_txt(p)


def test_mat_reader(tmp_path):
    x = np.random.default_rng(0).normal(size=(10, 96))
    scipy.io.savemat(tmp_path / "ok.mat", {"expmapchannels": x})
    np.testing.assert_allclose(readers.read_subject86_mat(tmp_path / "ok.mat"), x, rtol=1e-6)
    scipy.io.savemat(tmp_path / "other.mat", {"angles": x})
    with pytest.raises(DataError, match=r"no array 'expmapchannels'.*\['angles'\]"):
        readers.read_subject86_mat(tmp_path / "other.mat")
    scipy.io.savemat(tmp_path / "narrow.mat", {"expmapchannels": x[:, :50]})
    with pytest.raises(DataError, match="50 columns, expected 96"):
        readers.read_subject86_mat(tmp_path / "narrow.mat")
    x[3, 7] = np.nan
    scipy.io.savemat(tmp_path / "nan.mat", {"expmapchannels": x})
    with pytest.raises(DataError, match="line 4, column 8: non-finite"):
        readers.read_subject86_mat(tmp_path / "nan.mat")
    (tmp_path / "junk.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(DataError, match="not a readable MATLAB"):
        readers.read_subject86_mat(tmp_path / "junk.mat")


def test_ground_truth_reader(tmp_path):
    p = tmp_path / "gt.txt"
    p.write_text("3\n1 walk\n100 120 140\n2 knee shot\n300 280 310 \n3 walk\n500\n\n")
    segs = readers.read_ground_truth(p)
    assert [s.name for s in segs] == ["walk", "knee shot", "walk"]
    assert segs[1].window == (280, 310) and segs[0].window == (100, 140)
    assert segs[-1].best == 500 and segs[-1].earliest is None
    p.write_text("3\n1 walk\n100 120 140\n2 run\n")
    with pytest.raises(DataError, match="3 segments announced"):
        readers.read_ground_truth(p)
    p.write_text("2\n1 walk\n100 x 140\n2 run\n300\n")
    with pytest.raises(DataError, match="line 3: expected frame numbers"):
        readers.read_ground_truth(p)
