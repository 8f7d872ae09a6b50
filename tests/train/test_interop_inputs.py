"""The PyTorch bridge's bad inputs get micrornn's sentences, not torch's — issue [J] (18) item 7, [I] (17) item 5."""

import pytest

import micrornn as mr

pytestmark = [pytest.mark.lesson_torch]  # this file's lessons: pytest -m lesson_torch

torch = pytest.importorskip("torch", reason="the PyTorch bridge is an optional extra: pip install micrornn[torch]")
from micrornn import interop  # noqa: E402


def test_from_torch_of_a_meta_device_module_says_it_has_no_values():
    with pytest.raises(ValueError, match=r"weight_\w+ is on the 'meta' device \(shapes only, no values\)"):
        interop.from_torch(torch.nn.RNN(2, 3, device="meta"), torch.nn.Linear(3, 2))
    with pytest.raises(ValueError, match=r"head\.weight is on the 'meta' device"):
        interop.from_torch(torch.nn.GRU(2, 3), torch.nn.Linear(3, 2, device="meta"))


def test_a_torch_model_fed_an_out_of_range_token_says_which_as_unroll_does():
    model = interop.to_torch(mr.nn.RNN(5, 3, 5, token_ids=True))
    for ids, bad in (([1, 7], 7), ([-1, 2], -1)):
        with pytest.raises(ValueError, match=rf"TorchModel\(x\): token id {bad} is out of range for input_size 5 "
                                             r"\(ids 0\.\.4\)"):
            model(torch.tensor(ids))
    with pytest.raises(TypeError, match="token ids must be an integer tensor, got torch.float32"):
        model(torch.tensor([1.0, 2.0]))
    assert model(torch.tensor([[0, 4], [1, 2]]))[0].shape == (2, 2, 5)
