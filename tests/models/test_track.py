import numpy as np

from models.track import match_clusters, moving_centroid, novelty


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_continued_born_and_split():
    topics = unit([[1, 0, 0], [0, 1, 0]])
    clusters = unit([[0.1, 1, 0], [1, 0.05, 0], [0, 0, 1], [1, 0.2, 0]])
    assignments, merges = match_clusters("2024-W02", clusters, ["t-a", "t-b"], topics, 0.7)
    by_cluster = {a.cluster: a for a in assignments}
    assert by_cluster[0].topic_id == "t-b" and by_cluster[0].event == "continued"
    assert by_cluster[1].topic_id == "t-a" and by_cluster[1].event == "continued"
    assert by_cluster[2].event == "born" and by_cluster[2].topic_id == "2024-W02/00"
    assert by_cluster[3].event == "split" and by_cluster[3].parent_topic_id == "t-a"
    assert by_cluster[3].topic_id == "2024-W02/01"
    assert merges == []


def test_two_topics_into_one_cluster_is_a_merge():
    topics = unit([[1, 0.1, 0], [1, -0.1, 0]])
    clusters = unit([[1, 0, 0]])
    assignments, merges = match_clusters("2024-W03", clusters, ["t-a", "t-b"], topics, 0.7)
    assert [a.event for a in assignments] == ["continued"]
    assert len(merges) == 1 and merges[0].into_topic_id == assignments[0].topic_id


def test_no_earlier_topics_means_all_born():
    clusters = unit([[1, 0], [0, 1]])
    assignments, _ = match_clusters("2024", clusters, [], np.zeros((0, 2), np.float32), 0.7)
    assert [a.topic_id for a in assignments] == ["2024/00", "2024/01"]


def test_moving_centroid_and_novelty():
    old, new = unit([[1, 0]])[0], unit([[0, 1]])[0]
    mixed = moving_centroid(old, new)
    assert np.isclose(np.linalg.norm(mixed), 1.0)
    assert novelty(new, unit([[1, 0]])) == 1.0 - 0.0
    assert novelty(new, np.zeros((0, 2), np.float32)) == 1.0


def test_a_continuation_that_drifted_away_ends_the_topic():
    from models.track import Assignment, end_drifted

    birth = np.asarray([1.0, 0.0], np.float32)
    centroids = np.asarray([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]], np.float32)
    assignments = [
        Assignment(0, "2020-01/00", "continued", "2020-01/00", 0.7),
        Assignment(1, "2020-01/01", "continued", "2020-01/01", 0.7),
        Assignment(2, "2020-02/00", "born", None, 0.1),
    ]
    first = {"2020-01/00": birth, "2020-01/01": birth}
    before = {"2020-01/00": ("food", "covid"), "2020-01/01": ("debate", "biden")}
    got = end_drifted(
        "2020-02",
        assignments,
        first,
        before,
        centroids,
        [["ducks", "fans"], ["debate", "trump"], ["x"]],
        0.5,
    )
    assert (got[0].topic_id, got[0].event, got[0].parent_topic_id) == (
        "2020-02/01",
        "born",
        "2020-01/00",
    )  # far from birth, no keyword shared: ended
    assert got[1] == assignments[1]  # far from birth but still about the same words
    assert got[2] == assignments[2]
    assert (
        end_drifted(
            "2020-02", assignments, first, before, centroids, [["ducks"], ["x"], ["y"]], 2.0
        )
        == assignments
    )  # off
