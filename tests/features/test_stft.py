"""The blocked STFT, the partial inverse STFT and the partial median filter against librosa
and scipy."""

import librosa
import numpy as np
import pytest
import scipy.ndimage

from app.features.stft import stft
from app.features.timbre.spectrum import median_filter_columns, overlap_add


@pytest.mark.parametrize(
    ("n_samples", "n_fft", "hop", "center"),
    [
        (700, 1024, 256, True),
        (5000, 1024, 256, True),
        (66_167, 1024, 256, True),
        (2048, 2048, 441, False),
        (5000, 2048, 441, False),
        (66_167, 2048, 441, False),
    ],
)
@pytest.mark.filterwarnings("ignore:n_fft=.* is too large:UserWarning")
def test_stft_equals_librosa(n_samples, n_fft, hop, center):
    y = np.random.default_rng(n_samples).standard_normal(n_samples).astype(np.float32)
    expected = librosa.stft(y, n_fft=n_fft, hop_length=hop, center=center)
    np.testing.assert_array_equal(stft(y, n_fft, hop, center=center), expected)


def test_overlap_add_of_some_frames_equals_librosa_istft_where_they_cover():
    y = np.random.default_rng(1).standard_normal(30_000).astype(np.float32)
    spectra = librosa.stft(y, n_fft=1024, hop_length=256)
    expected = librosa.istft(spectra, n_fft=1024, hop_length=256, length=len(y))
    # Frames 0-39 cover samples -512 to 10_240; all frames overlapping 0 to 9_728 are there.
    signal = overlap_add(spectra[:, :40], 256)[512 : 512 + 9_728]
    np.testing.assert_allclose(signal, expected[:9_728], atol=1e-6)
    signal = overlap_add(spectra[:, 20:60], 256)[1024:-1024]
    np.testing.assert_allclose(signal, expected[20 * 256 - 512 + 1024 :][: len(signal)], atol=1e-6)


@pytest.mark.parametrize(("first", "last"), [(0, 60), (5, 50), (20, 21), (59, 60)])
def test_median_filter_of_some_rows_equals_scipy(first, last):
    x = np.random.default_rng(2).random((60, 40), dtype=np.float32)
    expected = scipy.ndimage.median_filter(x, size=(31, 1), mode="reflect")[first:last]
    np.testing.assert_array_equal(median_filter_columns(x, 31, first, last), expected)
