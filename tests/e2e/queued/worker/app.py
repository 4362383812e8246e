"""A queue worker: reports each task it is given to the results queue; tasks named ``fail-once`` fail on
their first delivery, ``poison`` on every delivery."""

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

processor = BatchProcessor(event_type=EventType.SQS)
sqs = boto3.client("sqs")


def work(record: SQSRecord) -> None:
    task = json.loads(record.body)["task"]
    receive_count = int(record.attributes.approximate_receive_count)
    report = {
        "task": task,
        "receive_count": receive_count,
        "from_work_queue": record.event_source_arn == os.environ["WORK_QUEUE_ARN"],
    }
    sqs.send_message(QueueUrl=os.environ["RESULTS_QUEUE_URL"], MessageBody=json.dumps(report))
    if task == "poison" or (task == "fail-once" and receive_count == 1):
        raise ValueError(f"cannot do {task} now")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=work, processor=processor, context=context)
