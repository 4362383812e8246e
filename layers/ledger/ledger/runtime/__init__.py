"""What every function needs from Lambda itself: structured logs, CloudWatch metrics, partial batch answers.

Small on purpose: a function's cold start is mostly its imports, and these replace the parts of Powertools
(logger, metrics, batch processor) whose imports cost more than the ledger's own code."""
