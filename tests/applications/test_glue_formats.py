"""The official GLUE file layouts: files written here by hand in each task's
layout are read back field by field; malformed files fail with the file and
line; submissions are written and re-read in the leaderboard format."""

import os

import pytest

from applications.glue.formats import (
    EVALUATIONS,
    LAYOUTS,
    TASKS,
    Example,
    load_glue,
    read_file,
    read_submission,
    task_files,
    write_file,
    write_glue,
    write_submission,
)

MNLI_TRAIN_HEADER = ("index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
                     "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label")  # fmt: skip
MNLI_DEV_HEADER = MNLI_TRAIN_HEADER.replace("label1\tgold_label", "label1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label")
MNLI_TEST_HEADER = MNLI_TRAIN_HEADER.removesuffix("\tlabel1\tgold_label")
STSB_HEADER = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2"


def _mnli_row(index, genre, s1, s2, labels):
    parses = ["( a b )", "( c d )", "(ROOT (S (X a)))", "(ROOT (S (X c)))"]
    return "\t".join([str(index), str(5000 + index), f"{5000 + index}n", genre, *parses, s1, s2, *labels])


# Each task's files as GLUE distributes them (sentences made up for the test).
GLUE_FILES = {
    "CoLA/train.tsv": "gj04\t1\t\tOur friends won't buy this analysis.\nclc95\t0\t*\tThe more you eat, the more you want the.\n",
    "CoLA/dev.tsv": "bc01\t1\t\tThe sailors rode the breeze clear of the rocks.\nbc01\t0\t*\tThe sailors rode breeze the clear.\n",
    "CoLA/test.tsv": "index\tsentence\n0\tBill whistled past the house.\n1\tHe said \"hello\" twice.\n",
    "SST-2/train.tsv": "sentence\tlabel\nhide new secretions \t0\na \"gorgeous\" film \t1\n",
    "SST-2/dev.tsv": "sentence\tlabel\nit 's a charming journey . \t1\n",
    "SST-2/test.tsv": "index\tsentence\n0\tuneasy mishmash of styles and genres .\n",
    "MRPC/train.tsv": "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t702876\t702977\tHe said the plan worked.\tThe plan worked, he said.\n0\t2108705\t2108831\tShares rose 5%.\tShares fell on Monday.\n",
    "MRPC/dev.tsv": "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1355540\t1355592\tA cat sat.\tA cat was sitting.\n",
    "MRPC/test.tsv": "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1089874\t1089925\tPCCW 's chief said so.\tThe chief of PCCW said so.\n",
    "STS-B/train.tsv": f"{STSB_HEADER}\tscore\n0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane is taking off.\tAn air plane is taking off.\t5.000\n1\tmain-news\theadlines\t2013\t0002\tnone\tnone\tA man plays.\tA dog runs.\t0.500\n",
    "STS-B/dev.tsv": f"{STSB_HEADER}\tscore\n0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA man with a hard hat is dancing.\tA man wearing a hard hat is dancing.\t5.000\n",
    "STS-B/test.tsv": f"{STSB_HEADER}\n0\tmain-captions\tMSRvid\t2012test\t0024\tnone\tnone\tA girl is styling her hair.\tA girl is brushing her hair.\n",
    "QQP/train.tsv": "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n133273\t213221\t213222\tHow is the life of a math student?\tWhich level of math do I need?\t0\n402555\t536040\t536041\tHow do I control my anger?\tHow do I stop being angry?\t1\n",
    "QQP/dev.tsv": "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n201359\t303345\t303346\tWhy are African-Americans so beautiful?\tWhy are hispanics so beautiful?\t0\n",
    "QQP/test.tsv": "id\tquestion1\tquestion2\n0\tWould the idea of Trump work?\tWhat is Trump's idea?\n",
    "MNLI/train.tsv": MNLI_TRAIN_HEADER + "\n" + "\n".join([
        _mnli_row(0, "government", "Conceptually cream skimming has two dimensions.", "Product and geography are what make cream skimming work.", ["neutral", "neutral"]),
        _mnli_row(1, "telephone", "you know during the season", "You lose the things.", ["entailment", "entailment"]),
    ]) + "\n",  # fmt: skip
    "MNLI/dev_matched.tsv": MNLI_DEV_HEADER + "\n" + "\n".join([
        _mnli_row(0, "government", "The new rights are nice enough", "Everyone really likes the newest benefits", ["neutral"] * 6),
        _mnli_row(1, "telephone", "This site includes a list.", "The site has no list.", ["contradiction", "contradiction", "neutral", "contradiction", "contradiction", "contradiction"]),
        _mnli_row(2, "fiction", "He waited.", "He left.", ["neutral", "contradiction", "entailment", "neutral", "contradiction", "-"]),
    ]) + "\n",  # fmt: skip
    "MNLI/dev_mismatched.tsv": MNLI_DEV_HEADER + "\n" + _mnli_row(0, "letters", "Your gift is appreciated.", "Hundreds of students will benefit.", ["neutral"] * 6) + "\n",
    "MNLI/test_matched.tsv": MNLI_TEST_HEADER + "\n" + _mnli_row(0, "fiction", "I walked.", "I moved.", []) + "\n",
    "MNLI/test_mismatched.tsv": MNLI_TEST_HEADER + "\n" + _mnli_row(0, "oup", "The report ends.", "The report goes on.", []) + "\n",
    "QNLI/train.tsv": "index\tquestion\tsentence\tlabel\n0\tWhen did the third Digimon series begin?\tUnlike the two seasons before it, it was set apart.\tnot_entailment\n",
    "QNLI/dev.tsv": "index\tquestion\tsentence\tlabel\n0\tWhat came into force after the new constitution?\tThe Chamber was established.\tentailment\n",
    "QNLI/test.tsv": "index\tquestion\tsentence\n0\tWhat organization is devoted to Jihad?\tFor some decades prior, it was active.\n",
    "RTE/train.tsv": "index\tsentence1\tsentence2\tlabel\n0\tNo weapons were found.\tWeapons were found.\tnot_entailment\n1\tA place of sorrow.\tA place of sadness.\tentailment\n",
    "RTE/dev.tsv": "index\tsentence1\tsentence2\tlabel\n0\tDana Reeve died.\tChristopher Reeve had an accident.\tnot_entailment\n",
    "RTE/test.tsv": "index\tsentence1\tsentence2\n0\tMangla was built in 1967.\tMangla was built in 1967.\n",
    "WNLI/train.tsv": "index\tsentence1\tsentence2\tlabel\n0\tI stuck a pin through a carrot.\tThe carrot had a hole.\t1\n",
    "WNLI/dev.tsv": "index\tsentence1\tsentence2\tlabel\n0\tThe drain is clogged with hair.\tThe hair has to be cleaned.\t0\n",
    "WNLI/test.tsv": "index\tsentence1\tsentence2\n0\tMaria took the toy.\tThe toy was taken.\n",
    "diagnostic/diagnostic.tsv": "index\tsentence1\tsentence2\n0\tThe cat sat on the mat.\tThe cat did not sit on the mat.\n1\tThe cat sat.\tThe cat sat on the mat.\n",
}  # fmt: skip


@pytest.fixture
def glue_dir(tmp_path):
    for relative, text in GLUE_FILES.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_every_task_and_split_is_read_from_the_official_layout(glue_dir):
    data = load_glue(str(glue_dir))
    assert sorted(data) == sorted(TASKS)
    assert sorted(data["MNLI"]) == ["dev_matched", "dev_mismatched", "diagnostic", "test_matched", "test_mismatched", "train"]
    cola = data["CoLA"]
    assert [(e.text_a, e.label) for e in cola["train"]] == [
        ("Our friends won't buy this analysis.", "1"), ("The more you eat, the more you want the.", "0")]
    assert [(e.index, e.text_a, e.label) for e in cola["test"]] == [
        ("0", "Bill whistled past the house.", None), ("1", 'He said "hello" twice.', None)]  # quotes are text
    assert data["SST-2"]["train"][1] == Example("1", 'a "gorgeous" film ', None, "1")
    mrpc = data["MRPC"]["train"]  # the byte-order mark of the MSR files is ignored
    assert (mrpc[0].text_a, mrpc[0].text_b, mrpc[0].label) == ("He said the plan worked.", "The plan worked, he said.", "1")
    assert data["MRPC"]["test"][0].index == "0" and data["MRPC"]["test"][0].label is None
    stsb = data["STS-B"]
    assert [e.label for e in stsb["train"]] == [5.0, 0.5]
    assert stsb["test"][0] == Example("0", "A girl is styling her hair.", "A girl is brushing her hair.", None, "main-captions")
    assert [e.genre for e in stsb["train"]] == ["main-captions", "main-news"]
    assert [(e.index, e.label) for e in data["QQP"]["train"]] == [("133273", "0"), ("402555", "1")]
    assert data["QQP"]["test"][0].text_b == "What is Trump's idea?"
    mnli = data["MNLI"]
    assert [(e.label, e.genre) for e in mnli["train"]] == [("neutral", "government"), ("entailment", "telephone")]
    assert [e.label for e in mnli["dev_matched"]] == ["neutral", "contradiction"]  # gold "-" skipped
    assert mnli["dev_mismatched"][0].genre == "letters" and mnli["test_mismatched"][0].label is None
    assert [(e.index, e.text_b) for e in mnli["diagnostic"]] == [("0", "The cat did not sit on the mat."), ("1", "The cat sat on the mat.")]
    assert data["QNLI"]["train"][0].text_a == "When did the third Digimon series begin?"
    assert [e.label for e in data["RTE"]["train"]] == ["not_entailment", "entailment"]
    assert data["WNLI"]["dev"][0].label == "0"


def test_the_diagnostic_is_found_under_each_of_its_names(glue_dir):
    text = GLUE_FILES["diagnostic/diagnostic.tsv"]
    os.remove(glue_dir / "diagnostic" / "diagnostic.tsv")
    assert "diagnostic" not in task_files(str(glue_dir), "MNLI")
    (glue_dir / "AX.tsv").write_text(text)
    assert len(load_glue(str(glue_dir), ["MNLI"])["MNLI"]["diagnostic"]) == 2


def test_a_directory_with_some_tasks_loads_those(glue_dir):
    assert sorted(load_glue(str(glue_dir), ["RTE", "CoLA"])) == ["CoLA", "RTE"]
    only = glue_dir / "only"
    (only / "RTE").mkdir(parents=True)
    (only / "RTE" / "train.tsv").write_text(GLUE_FILES["RTE/train.tsv"])
    assert list(load_glue(str(only))) == ["RTE"]
    with pytest.raises(ValueError, match="no CoLA files"):
        load_glue(str(only), ["CoLA"])
    with pytest.raises(ValueError, match="holds no GLUE task folder"):
        load_glue(str(only / "RTE"))
    with pytest.raises(ValueError, match="`tasks` must be GLUE task names"):
        load_glue(str(glue_dir), ["SNLI"])


@pytest.mark.parametrize(
    "relative, text, message",
    [
        ("SST-2/train.tsv", "text\tlabel\nfine\t1\n", r"SST-2/train.tsv, line 1: expected the SST-2 train header sentence<TAB>label; found text<TAB>label"),
        ("CoLA/train.tsv", "gj04\t1\tOur friends.\n", r"CoLA/train.tsv, line 1: expected 4 tab-separated columns"),
        ("RTE/dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tmaybe\n", r"RTE/dev.tsv, line 2: the RTE label must be one of \['entailment', 'not_entailment'\]; found 'maybe'"),
        ("STS-B/dev.tsv", STSB_HEADER + "\tscore\n0\tg\tf\ty\to\tn\tn\ta\tb\t7.5\n", r"line 2: the STS-B score must be a number in \[0, 5\]; found '7.5'"),
        ("QQP/train.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t2\t3\tonly one question\t0\n", r"line 2: expected 6 tab-separated columns"),
        ("MNLI/dev_matched.tsv", MNLI_TRAIN_HEADER + "\n", r"expected the MNLI dev header index<TAB>promptID"),
    ],
)  # fmt: skip
def test_malformed_files_name_the_file_and_line(tmp_path, relative, text, message):
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_glue(str(tmp_path))


def test_malformed_rows_can_be_skipped_as_glue_s_processors_do(tmp_path):
    path = tmp_path / "QQP" / "train.tsv"
    path.parent.mkdir()
    path.write_text(GLUE_FILES["QQP/train.tsv"] + "5\t6\t7\ta question without its pair\t1\n")
    assert len(read_file(str(path), "QQP", skip_malformed=True)) == 2


def test_written_files_have_the_official_columns_and_read_back(tmp_path):
    """Our writer (used for the embedded data) against the layouts above."""
    pair = [Example("0", "a b", "c d", None, "fiction"), Example("1", "e", "f", None, "slate")]
    single = [Example("0", "a b"), Example("1", "c")]
    for (task, kind), columns in LAYOUTS.items():
        examples = single if not TASKS[task].is_pair and kind != "diagnostic" else pair
        if kind in ("train", "dev"):
            labels = [1.25, 4.0] if TASKS[task].is_regression else list(TASKS[task].labels[:2])
            examples = [Example(e.index, e.text_a, e.text_b, label, e.genre) for e, label in zip(examples, labels)]
        path = write_file(str(tmp_path / task / f"{kind}.tsv"), task, kind, examples)
        lines = open(path, encoding="utf-8").read().splitlines()
        if task == "CoLA" and kind != "test":
            assert len(lines) == 2 and all(len(line.split("\t")) == 4 for line in lines)
        else:
            assert lines[0].split("\t") == list(columns) and len(lines) == 3
        read = read_file(path, task, kind)
        assert [(e.text_a, e.text_b, e.label) for e in read] == [(e.text_a, e.text_b, e.label) for e in examples], (task, kind)
        if task == "MNLI" and kind != "diagnostic":
            assert [e.genre for e in read] == ["fiction", "slate"]
    with pytest.raises(ValueError, match="holds a tab or line break"):
        write_file(str(tmp_path / "bad.tsv"), "SST-2", "test", [Example("0", "a\tb")])


def test_write_glue_makes_the_directory_load_glue_reads(tmp_path, glue_dir):
    data = load_glue(str(glue_dir))
    again = load_glue(write_glue(str(tmp_path / "copy"), data))
    for task, splits in data.items():
        for split, examples in splits.items():
            assert [(e.text_a, e.text_b, e.label) for e in again[task][split]] == [(e.text_a, e.text_b, e.label) for e in examples]


def test_submissions_have_the_leaderboard_names_header_and_labels(tmp_path):
    assert sorted(out for *_, out in EVALUATIONS.values()) == sorted(
        ["CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "QQP.tsv", "MNLI-m.tsv", "MNLI-mm.tsv", "QNLI.tsv",
         "RTE.tsv", "WNLI.tsv", "AX.tsv"])  # fmt: skip
    path = write_submission(str(tmp_path), "MNLI-mm", ["0", "1", "2"], ["entailment", "neutral", "contradiction"])
    assert os.path.basename(path) == "MNLI-mm.tsv"
    assert open(path).read() == "index\tprediction\n0\tentailment\n1\tneutral\n2\tcontradiction\n"
    assert read_submission(path) == ("MNLI-mm", [("0", "entailment"), ("1", "neutral"), ("2", "contradiction")])
    path = write_submission(str(tmp_path), "STS-B", [0, 1], [5.7, 2.25])
    assert open(path).read() == "index\tprediction\n0\t5.000\n1\t2.250\n"  # clipped to [0, 5]
    assert read_submission(path)[1] == [("0", 5.0), ("1", 2.25)]
    path = write_submission(str(tmp_path), "QNLI", [7], ["not_entailment"])
    assert read_submission(path) == ("QNLI", [("7", "not_entailment")])
    assert open(write_submission(str(tmp_path), "CoLA", [0], ["1"])).read() == "index\tprediction\n0\t1\n"


def test_bad_submissions_are_refused(tmp_path):
    with pytest.raises(ValueError, match="a RTE prediction must be one of"):
        write_submission(str(tmp_path), "RTE", [0], ["1"])
    with pytest.raises(ValueError, match="`evaluation` must be one of"):
        write_submission(str(tmp_path), "MNLI", [0], ["entailment"])
    with pytest.raises(ValueError, match="must have the same length"):
        write_submission(str(tmp_path), "CoLA", [0, 1], ["1"])
    (tmp_path / "answers.tsv").write_text("index\tprediction\n")
    with pytest.raises(ValueError, match="a GLUE submission file is named one of"):
        read_submission(str(tmp_path / "answers.tsv"))
    (tmp_path / "CoLA.tsv").write_text("id\tlabel\n0\t1\n")
    with pytest.raises(ValueError, match="line 1: expected the header index<TAB>prediction"):
        read_submission(str(tmp_path / "CoLA.tsv"))
    (tmp_path / "CoLA.tsv").write_text("index\tprediction\n0\t2\n")
    with pytest.raises(ValueError, match=r"CoLA.tsv, line 2: the CoLA label must be one of"):
        read_submission(str(tmp_path / "CoLA.tsv"))
