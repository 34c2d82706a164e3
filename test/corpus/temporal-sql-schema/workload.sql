-- Temporal workload (written for the corpus): the persistence writes of a Temporal server
-- running workflows: start, progress, timers, task dispatch, completion, visibility updates.
-- Keys are composite and mostly bytea.

-- start a workflow: execution, current pointer, history tree and first batch, a task, visibility
BEGIN;
INSERT INTO executions (shard_id, namespace_id, workflow_id, run_id, next_event_id, last_write_version, data, data_encoding, state, state_encoding, db_record_version)
VALUES (1, decode(md5('ns1'), 'hex'), 'wf-new', decode(md5('run-new'), 'hex'), 3, 0, decode(repeat(md5('exec-new'), 40), 'hex'), 'Proto3', decode(md5('state-new'), 'hex'), 'Proto3', 1);
INSERT INTO current_executions (shard_id, namespace_id, workflow_id, run_id, create_request_id, state, status, start_version, start_time, last_write_version, data, data_encoding)
VALUES (1, decode(md5('ns1'), 'hex'), 'wf-new', decode(md5('run-new'), 'hex'), md5('req-new'), 1, 1, 0, '2025-01-03 00:00:00', 0, NULL, 'Proto3');
INSERT INTO history_tree (shard_id, tree_id, branch_id, data, data_encoding) VALUES (1, decode(md5('run-new'), 'hex'), decode(md5('branch-new'), 'hex'), decode(md5('tree-new'), 'hex'), 'Proto3');
INSERT INTO history_node (shard_id, tree_id, branch_id, node_id, txn_id, prev_txn_id, data, data_encoding)
VALUES (1, decode(md5('run-new'), 'hex'), decode(md5('branch-new'), 'hex'), 1, -90001, 0, decode(repeat(md5('events-new-1'), 30), 'hex'), 'Proto3');
INSERT INTO tasks (range_hash, task_queue_id, task_id, data, data_encoding) VALUES (1, decode(md5('tq1'), 'hex'), 90001, decode(md5('task-new'), 'hex'), 'Proto3');
INSERT INTO transfer_tasks (shard_id, task_id, data, data_encoding) VALUES (1, 90001, decode(md5('transfer-new'), 'hex'), 'Proto3');
COMMIT;
INSERT INTO executions_visibility (namespace_id, run_id, _version, start_time, execution_time, workflow_id, workflow_type_name, status, encoding, task_queue, search_attributes, root_workflow_id, root_run_id)
VALUES (md5('ns1'), md5('run-new'), 1, '2025-01-03 00:00:00', '2025-01-03 00:00:00', 'wf-new', 'OrderWorkflow', 1, 'Proto3', 'orders',
        '{"CustomerId": "c-new", "Keyword01": "region-9", "Int01": 9001, "TemporalChangeVersion": ["initial-1"]}', 'wf-new', md5('run-new'));

-- workers poll: tasks are dispatched and deleted, the queue's range moves
DELETE FROM tasks WHERE range_hash = 1 AND task_queue_id = decode(md5('tq1'), 'hex') AND task_id <= 200;
UPDATE task_queues SET range_id = range_id + 1, data = decode(md5('tqdata1-v2'), 'hex') WHERE range_hash = 1;

-- the workflow progresses: optimistic-concurrency update of the mutable state, a new history
-- batch, an activity, a timer; updates that leave the large data column untouched
BEGIN;
UPDATE executions SET next_event_id = 9, db_record_version = db_record_version + 1, state = decode(md5('state-new-2'), 'hex')
 WHERE shard_id = 1 AND namespace_id = decode(md5('ns1'), 'hex') AND workflow_id = 'wf-new' AND run_id = decode(md5('run-new'), 'hex') AND db_record_version = 1;
INSERT INTO history_node (shard_id, tree_id, branch_id, node_id, txn_id, prev_txn_id, data, data_encoding)
SELECT 1, decode(md5('run-new'), 'hex'), decode(md5('branch-new'), 'hex'), 3, -90002, -90001, decode(string_agg(md5('events-new-3-' || i), ''), 'hex'), 'Proto3' FROM generate_series(1, 1500) i;
INSERT INTO activity_info_maps (shard_id, namespace_id, workflow_id, run_id, schedule_id, data, data_encoding)
VALUES (1, decode(md5('ns1'), 'hex'), 'wf-new', decode(md5('run-new'), 'hex'), 5, decode(md5('act-new'), 'hex'), 'Proto3');
INSERT INTO timer_tasks (shard_id, visibility_timestamp, task_id, data, data_encoding) VALUES (1, '2025-01-03 00:05:00', 90002, decode(md5('timer-new'), 'hex'), 'Proto3');
COMMIT;

-- timers fire and are removed
DELETE FROM timer_tasks WHERE visibility_timestamp < '2025-01-02 00:05:00';
-- transfer tasks acknowledged in a range
DELETE FROM transfer_tasks WHERE shard_id = 2 AND task_id < 400;

-- shard ownership moves to another host: range_id bumps on every shard
UPDATE shards SET range_id = range_id + 1;
UPDATE cluster_membership SET last_heartbeat = '2025-01-03 00:00:00', record_expiry = '2025-01-03 00:00:20';

-- workflows complete: current_executions state changes, the activity goes away, visibility closes
BEGIN;
UPDATE current_executions SET state = 3, status = 2 WHERE workflow_id IN ('wf-1', 'wf-2', 'wf-new');
DELETE FROM activity_info_maps WHERE workflow_id IN ('wf-2', 'wf-new');
UPDATE executions_visibility SET status = 2, close_time = '2025-01-03 00:10:00', history_length = 20, _version = _version + 1
 WHERE workflow_id IN ('wf-1', 'wf-2', 'wf-new');
COMMIT;

-- search attributes are upserted (the generated columns follow)
UPDATE executions_visibility SET search_attributes = search_attributes || '{"Keyword01": "region-moved", "Bool01": true, "Text01": "order moved"}', _version = _version + 1
 WHERE workflow_id = 'wf-3';

-- retention: a closed workflow is deleted everywhere
BEGIN;
DELETE FROM history_node WHERE shard_id = 2 AND tree_id = decode(md5('run5'), 'hex');
DELETE FROM history_tree WHERE shard_id = 2 AND tree_id = decode(md5('run5'), 'hex');
DELETE FROM executions WHERE workflow_id = 'wf-5';
DELETE FROM current_executions WHERE workflow_id = 'wf-5';
DELETE FROM executions_visibility WHERE workflow_id = 'wf-5';
COMMIT;
UPDATE namespaces SET notification_version = notification_version + 1, data = decode(repeat(md5('nsdata1-v2'), 8), 'hex') WHERE name = 'default';
UPDATE namespace_metadata SET notification_version = notification_version + 1;
