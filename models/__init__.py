"""The intelligence: encoder, clustering, tracking, keywords, scores, directions, evaluation."""
