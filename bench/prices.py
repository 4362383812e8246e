"""Published on-demand prices, us-east-1, in USD, with where and when they were read.

Free tiers are left out: the figures are what traffic beyond them costs.
"""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"
TAKEN_ON = "2026-11-21"


@dataclass(frozen=True)
class Price:
    what: str
    usd: float
    per: float  # units the price is for
    source: str

    def of(self, units: float) -> float:
        return self.usd * units / self.per


DYNAMODB_WRITE = Price(
    "DynamoDB on-demand write request unit (Standard table class)",
    0.625,
    1_000_000,
    "https://aws.amazon.com/dynamodb/pricing/on-demand/ (as quoted by"
    " https://airbyte.com/data-engineering-resources/dynamodb-pricing)",
)
DYNAMODB_READ = Price(
    "DynamoDB on-demand read request unit (Standard table class)",
    0.125,
    1_000_000,
    DYNAMODB_WRITE.source,
)
LAMBDA_REQUEST = Price("Lambda request", 0.20, 1_000_000, "https://aws.amazon.com/lambda/pricing/")
LAMBDA_ARM_GB_SECOND = Price(
    "Lambda duration, arm64, first 7.5 billion GB-s a month",
    0.0000133334,
    1,
    "https://aws.amazon.com/lambda/pricing/ (as quoted by https://cloudchipr.com/blog/aws-lambda-pricing)",
)
HTTP_API_REQUEST = Price(
    "API Gateway HTTP API request (first 300 million a month, up to 512 KB)",
    1.00,
    1_000_000,
    "https://aws.amazon.com/api-gateway/pricing/",
)
EVENTBRIDGE_EVENT = Price(
    "EventBridge custom event published (64 KB chunks)",
    1.00,
    1_000_000,
    "https://aws.amazon.com/eventbridge/pricing/ (as quoted by"
    " https://blog.awsfundamentals.com/aws-eventbridge-pricing-guide)",
)
SQS_REQUEST = Price(
    "SQS standard queue request (per 64 KB chunk; first 100 billion a month)",
    0.40,
    1_000_000,
    "https://aws.amazon.com/sqs/pricing/ (as quoted by https://cloudburn.io/blog/amazon-sqs-pricing)",
)
STREAM_READ_BY_LAMBDA = Price(
    "DynamoDB Streams reads by a Lambda trigger (free: GetRecords calls Lambda makes are not charged)",
    0.0,
    1,
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html",
)

ALL = [
    DYNAMODB_WRITE,
    DYNAMODB_READ,
    LAMBDA_REQUEST,
    LAMBDA_ARM_GB_SECOND,
    HTTP_API_REQUEST,
    EVENTBRIDGE_EVENT,
    SQS_REQUEST,
    STREAM_READ_BY_LAMBDA,
]
