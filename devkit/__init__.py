"""What the tests and the benchmarks share: Lambda events (HTTP API, SQS, EventBridge, the table's stream),
signed Stripe webhook deliveries and a fake of the Stripe API localstripe lacks, the notification bus and the
auto top-up queue in moto, and calling a function's handler as Lambda would. The table's definition and the
moto server come from the local stack (credits_local), which reads them from template.yaml."""
