-- Synapse workload (written for the corpus): what the homeserver writes while users
-- register, join rooms, chat, read, go idle and log out. Synapse keys most of these
-- tables only by UNIQUE constraints or not at all, and upserts by DELETE + INSERT.

-- a new user registers and logs in from one device
BEGIN;
INSERT INTO users (name, password_hash, creation_ts, admin, is_guest, deactivated) VALUES ('@newcomer:corpus.example', '$2b$12$newcomer', 1700010000, 0, 0, 0);
INSERT INTO profiles (user_id, displayname) VALUES ('newcomer', 'Newcomer');
INSERT INTO devices (user_id, device_id, display_name, last_seen, ip, user_agent) VALUES ('@newcomer:corpus.example', 'NEWDEV', 'Laptop', 1700010000000, '198.51.100.7', 'corpus-client/2.0');
INSERT INTO access_tokens (id, user_id, device_id, token) VALUES (90001, '@newcomer:corpus.example', 'NEWDEV', 'syt_newcomer');
INSERT INTO user_directory (user_id, display_name) VALUES ('@newcomer:corpus.example', 'Newcomer');
COMMIT;

-- the user joins room 1: the membership event, its JSON, state and the membership tables
BEGIN;
INSERT INTO events (topological_ordering, event_id, type, room_id, content, processed, outlier, depth, origin_server_ts, received_ts, sender, contains_url, instance_name, stream_ordering, state_key)
VALUES (4201, '$join-newcomer', 'm.room.member', '!room1:corpus.example', '{"membership":"join"}', true, false, 4201, 1700010001000, 1700010001000, '@newcomer:corpus.example', false, 'master', nextval('events_stream_seq'), '@newcomer:corpus.example');
INSERT INTO event_json (event_id, room_id, internal_metadata, json, format_version)
VALUES ('$join-newcomer', '!room1:corpus.example', '{}', '{"type":"m.room.member","content":{"membership":"join"},"state_key":"@newcomer:corpus.example"}', 3);
INSERT INTO state_events (event_id, room_id, type, state_key) VALUES ('$join-newcomer', '!room1:corpus.example', 'm.room.member', '@newcomer:corpus.example');
INSERT INTO current_state_events (event_id, room_id, type, state_key, membership) VALUES ('$join-newcomer', '!room1:corpus.example', 'm.room.member', '@newcomer:corpus.example', 'join');
INSERT INTO room_memberships (event_id, user_id, sender, room_id, membership, display_name) VALUES ('$join-newcomer', '@newcomer:corpus.example', '@newcomer:corpus.example', '!room1:corpus.example', 'join', 'Newcomer');
INSERT INTO local_current_membership (room_id, user_id, event_id, membership) VALUES ('!room1:corpus.example', '@newcomer:corpus.example', '$join-newcomer', 'join');
COMMIT;

-- messages, one of them large
BEGIN;
INSERT INTO events (topological_ordering, event_id, type, room_id, processed, outlier, depth, origin_server_ts, received_ts, sender, contains_url, instance_name, stream_ordering)
SELECT 4201 + i, '$n' || i, 'm.room.message', '!room1:corpus.example', true, false, 4201 + i, 1700010002000 + i, 1700010002000 + i, '@newcomer:corpus.example', false, 'master', nextval('events_stream_seq')
  FROM generate_series(1, 20) i;
INSERT INTO event_json (event_id, room_id, internal_metadata, json, format_version)
SELECT '$n' || i, '!room1:corpus.example', '{}', json_build_object('type', 'm.room.message', 'content', json_build_object('msgtype', 'm.text', 'body', CASE WHEN i = 20 THEN repeat('wall of text ', 5000) ELSE 'hello ' || i END))::text, 3
  FROM generate_series(1, 20) i;
INSERT INTO event_edges (event_id, prev_event_id, room_id, is_state) SELECT '$n' || i, '$n' || (i - 1), '!room1:corpus.example', false FROM generate_series(2, 20) i;
COMMIT;

-- a message is redacted: its JSON is rewritten, the row keeps its key
UPDATE event_json SET json = '{"type":"m.room.message","content":{},"unsigned":{"redacted_because":"$redaction"}}' WHERE event_id = '$n3';
UPDATE events SET contains_url = false WHERE event_id = '$n3';

-- read receipts: Synapse replaces a user's receipt in a room (DELETE + INSERT)
BEGIN;
DELETE FROM receipts_linearized WHERE room_id = '!room1:corpus.example' AND receipt_type = 'm.read' AND user_id IN ('@user20:corpus.example', '@user40:corpus.example');
INSERT INTO receipts_linearized (stream_id, room_id, receipt_type, user_id, event_id, data, instance_name, event_stream_ordering)
SELECT nextval('receipts_sequence'), '!room1:corpus.example', 'm.read', u, '$n20', '{"ts":1700010003000}', 'master', 4221
  FROM unnest(ARRAY['@user20:corpus.example', '@user40:corpus.example', '@newcomer:corpus.example']) u;
COMMIT;

-- presence: many users go idle at once, one changes status
UPDATE presence_stream SET state = 'unavailable', stream_id = stream_id + 1000, last_active_ts = last_active_ts + 600000 WHERE state = 'online';
UPDATE presence_stream SET status_msg = 'on holiday ✈' WHERE user_id = '@user5:corpus.example';

-- device activity and IP tracking
UPDATE devices SET last_seen = 1700010005000, ip = '198.51.100.8' WHERE user_id = '@newcomer:corpus.example';
INSERT INTO user_ips (user_id, access_token, device_id, ip, user_agent, last_seen) VALUES ('@newcomer:corpus.example', 'syt_newcomer', 'NEWDEV', '198.51.100.8', 'corpus-client/2.0', 1700010005000);
DELETE FROM user_ips WHERE last_seen < 1700000000050;

-- profile and account data changes
UPDATE profiles SET displayname = 'Newcomer (she/her)', avatar_url = 'mxc://corpus.example/abc' WHERE user_id = 'newcomer';
UPDATE account_data SET content = '{"global":{"override":[]}}', stream_id = nextval('account_data_sequence') WHERE user_id = '@user1:corpus.example';
INSERT INTO room_account_data (user_id, room_id, account_data_type, stream_id, content) VALUES ('@newcomer:corpus.example', '!room1:corpus.example', 'm.fully_read', nextval('account_data_sequence'), '{"event_id":"$n20"}');

-- a user leaves room 2: the membership flips in place
BEGIN;
UPDATE current_state_events SET membership = 'leave' WHERE room_id = '!room2:corpus.example' AND state_key = '@user1:corpus.example';
UPDATE room_memberships SET membership = 'leave' WHERE room_id = '!room2:corpus.example' AND user_id = '@user1:corpus.example';
DELETE FROM local_current_membership WHERE room_id = '!room2:corpus.example' AND user_id = '@user1:corpus.example';
COMMIT;

-- logout everywhere and deactivation of an old account
DELETE FROM access_tokens WHERE user_id = '@user2:corpus.example';
DELETE FROM devices WHERE user_id = '@user2:corpus.example';
UPDATE users SET deactivated = 1, password_hash = NULL WHERE name = '@user2:corpus.example';
DELETE FROM user_directory WHERE user_id = '@user2:corpus.example';

-- stream positions move forward
UPDATE federation_stream_position SET stream_id = 4221 WHERE type = 'events';
UPDATE stats_incremental_position SET stream_id = 4221;
