import pytest

from astrozoo import recipes
from astrozoo.recipes import RecipeError

CARD = """
task = "t"
model = "m"
[params]
epochs = 10
lr = 0.001
[data]
seed = 0
[profiles.quick.params]
epochs = 2
[paper.metrics]
rmse = 0.25
"""


def write(tmp_path, text, name="m.toml"):
    path = tmp_path / "t" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def resolve(*args, path=None):
    return recipes.resolve_card(recipes.parse(path), *args)


def test_valid_card_and_profile(tmp_path):
    path = write(tmp_path, CARD)
    recipe = resolve("t", "m", "quick", ["params.lr=0.01", "data.seed=3"], path=path)
    assert recipe.params == {"epochs": 2, "lr": 0.01}
    assert recipe.data == {"seed": 3}
    assert recipe.paper["metrics"]["rmse"] == 0.25
    assert recipes.flatten({"params": recipe.params}) == {"params.epochs": 2, "params.lr": 0.01}


@pytest.mark.parametrize("text, message", [
    ("colour = 'red'\n" + CARD, "unknown key 'colour'"),
    (CARD.replace("epochs = 10", "epochs = 'ten'"), "profiles.quick: params.epochs: expected str"),
    (CARD.replace("[profiles.quick.params]\nepochs = 2", "[profiles.quick.params]\nepochz = 2"),
     "unknown key 'params.epochz'"),
    (CARD.replace('task = "t"\n', ""), "missing required key 'task'"),
    (CARD.replace("rmse = 0.25", "rmse = 'low'"), "paper.metrics.rmse: expected float"),
    ("task = [", "cannot read recipe"),
])
def test_bad_cards_name_file_and_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(RecipeError, match=message) as info:
        recipes.parse(path)
    assert str(path) in str(info.value)


def test_bad_overrides(tmp_path):
    path = write(tmp_path, CARD)
    with pytest.raises(RecipeError, match="unknown key 'params.lrr'.*known: epochs, lr"):
        resolve("t", "m", "quick", ["params.lrr=1"], path=path)
    with pytest.raises(RecipeError, match="expected int"):
        resolve("t", "m", "quick", ["params.epochs=fast"], path=path)
    with pytest.raises(RecipeError, match="section.key=value"):
        resolve("t", "m", "quick", ["epochs=3"], path=path)
    with pytest.raises(RecipeError, match="no profile 'gpu'"):
        resolve("t", "m", "gpu", path=path)
