"""What the notifications function makes of the table's stream: the notifications an account write implies
(``derive``) and, per stream record, what goes to the bus and the auto top-up queue (``stream``). It sits above
the use cases, whose rules (the low-balance threshold, the top-up crossing) it reads."""
