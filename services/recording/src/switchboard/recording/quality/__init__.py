"""The quality programme, kept beside the record it judges: per-agent handlings and scorecards,
evaluation forms, evaluations, calibration, coaching and team feedback."""
