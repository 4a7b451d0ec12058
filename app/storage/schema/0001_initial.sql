-- Kindly schema version 1, frozen: never edit; add a new migration step instead.

CREATE TABLE "account" ("id" INTEGER NOT NULL PRIMARY KEY, "network" VARCHAR(255) NOT NULL, "handle" VARCHAR(255) NOT NULL, "display_name" VARCHAR(255) NOT NULL, "base_url" VARCHAR(255) NOT NULL, "remote_id" VARCHAR(255) NOT NULL, "keyring_ref" VARCHAR(255) NOT NULL, "cursor" TEXT, "enabled" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, "last_sync_at" DATETIME, "last_error" TEXT);

CREATE UNIQUE INDEX "account_keyring_ref" ON "account" ("keyring_ref");

CREATE UNIQUE INDEX "account_network_handle_base_url" ON "account" ("network", "handle", "base_url");

CREATE TABLE "person" ("id" INTEGER NOT NULL PRIMARY KEY, "network" VARCHAR(255) NOT NULL, "remote_id" VARCHAR(255) NOT NULL, "handle" VARCHAR(255) NOT NULL, "display_name" VARCHAR(255) NOT NULL, "follower_count" INTEGER, "profile_url" VARCHAR(255), "stance" VARCHAR(255) NOT NULL, "notes" TEXT NOT NULL, "updated_at" DATETIME NOT NULL);

CREATE UNIQUE INDEX "person_network_remote_id" ON "person" ("network", "remote_id");

CREATE TABLE "case" ("id" INTEGER NOT NULL PRIMARY KEY, "account_id" INTEGER NOT NULL, "person_id" INTEGER NOT NULL, "network" VARCHAR(255) NOT NULL, "conversation_key" VARCHAR(255) NOT NULL, "status" VARCHAR(255) NOT NULL, "bucket" VARCHAR(255) NOT NULL, "status_reason" TEXT NOT NULL, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "first_mention_at" DATETIME NOT NULL, "last_activity_at" DATETIME NOT NULL, "mention_count" INTEGER NOT NULL, "reply_count" INTEGER NOT NULL, "last_snippet" VARCHAR(255) NOT NULL, "reopened_count" INTEGER NOT NULL, "priority" REAL NOT NULL, "why" VARCHAR(255) NOT NULL, "due_at" DATETIME, "keep" INTEGER NOT NULL, FOREIGN KEY ("account_id") REFERENCES "account" ("id") ON DELETE CASCADE, FOREIGN KEY ("person_id") REFERENCES "person" ("id") ON DELETE CASCADE);

CREATE INDEX "case_account_id" ON "case" ("account_id");

CREATE INDEX "case_person_id" ON "case" ("person_id");

CREATE UNIQUE INDEX "case_account_id_person_id_conversation_key" ON "case" ("account_id", "person_id", "conversation_key");

CREATE INDEX "case_bucket_last_activity_at_id" ON "case" ("bucket", "last_activity_at", "id");

CREATE INDEX "case_network_bucket_last_activity_at_id" ON "case" ("network", "bucket", "last_activity_at", "id");

CREATE INDEX "case_last_activity_at_id" ON "case" ("last_activity_at", "id");

CREATE INDEX "case_network_last_activity_at_id" ON "case" ("network", "last_activity_at", "id");

CREATE INDEX "case_bucket_priority_last_activity_at_id" ON "case" ("bucket", "priority", "last_activity_at", "id");

CREATE INDEX "case_network_bucket_priority_last_activity_at_id" ON "case" ("network", "bucket", "priority", "last_activity_at", "id");

CREATE INDEX "case_priority_last_activity_at_id" ON "case" ("priority", "last_activity_at", "id");

CREATE TABLE "case_event" ("id" INTEGER NOT NULL PRIMARY KEY, "case_id" INTEGER NOT NULL, "kind" VARCHAR(255) NOT NULL, "detail" TEXT NOT NULL, "actor" VARCHAR(255) NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("case_id") REFERENCES "case" ("id") ON DELETE CASCADE);

CREATE INDEX "case_event_case_id" ON "case_event" ("case_id");

CREATE TABLE "mention" ("id" INTEGER NOT NULL PRIMARY KEY, "account_id" INTEGER NOT NULL, "network" VARCHAR(255) NOT NULL, "remote_id" VARCHAR(255) NOT NULL, "author_id" INTEGER NOT NULL, "case_id" INTEGER, "text" TEXT NOT NULL, "markup" TEXT NOT NULL, "url" VARCHAR(255), "kind" VARCHAR(255) NOT NULL, "addressed_to_us" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, "fetched_at" DATETIME NOT NULL, "in_reply_to_id" VARCHAR(255), "conversation_id" VARCHAR(255), "sentiment" REAL, "sentiment_corrected" INTEGER NOT NULL, "raw" TEXT, FOREIGN KEY ("account_id") REFERENCES "account" ("id") ON DELETE CASCADE, FOREIGN KEY ("author_id") REFERENCES "person" ("id") ON DELETE CASCADE, FOREIGN KEY ("case_id") REFERENCES "case" ("id") ON DELETE SET NULL);

CREATE INDEX "mention_account_id" ON "mention" ("account_id");

CREATE INDEX "mention_author_id" ON "mention" ("author_id");

CREATE INDEX "mention_case_id" ON "mention" ("case_id");

CREATE UNIQUE INDEX "mention_network_remote_id" ON "mention" ("network", "remote_id");

CREATE INDEX "mention_case_id_created_at" ON "mention" ("case_id", "created_at");

CREATE INDEX "mention_author_id_created_at" ON "mention" ("author_id", "created_at");

CREATE TABLE "note" ("id" INTEGER NOT NULL PRIMARY KEY, "case_id" INTEGER, "person_id" INTEGER, "text" TEXT NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("case_id") REFERENCES "case" ("id") ON DELETE CASCADE, FOREIGN KEY ("person_id") REFERENCES "person" ("id") ON DELETE CASCADE);

CREATE INDEX "note_case_id" ON "note" ("case_id");

CREATE INDEX "note_person_id" ON "note" ("person_id");

CREATE TABLE "outbound_reply" ("id" INTEGER NOT NULL PRIMARY KEY, "case_id" INTEGER NOT NULL, "account_id" INTEGER NOT NULL, "in_reply_to_id" INTEGER, "text" TEXT NOT NULL, "template_name" VARCHAR(255), "state" VARCHAR(255) NOT NULL, "idempotency_key" VARCHAR(255) NOT NULL, "remote_id" VARCHAR(255), "remote_url" VARCHAR(255), "error" TEXT, "attempts" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "sent_at" DATETIME, FOREIGN KEY ("case_id") REFERENCES "case" ("id") ON DELETE CASCADE, FOREIGN KEY ("account_id") REFERENCES "account" ("id") ON DELETE CASCADE, FOREIGN KEY ("in_reply_to_id") REFERENCES "mention" ("id") ON DELETE SET NULL);

CREATE INDEX "outbound_reply_case_id" ON "outbound_reply" ("case_id");

CREATE INDEX "outbound_reply_account_id" ON "outbound_reply" ("account_id");

CREATE INDEX "outbound_reply_in_reply_to_id" ON "outbound_reply" ("in_reply_to_id");

CREATE UNIQUE INDEX "outbound_reply_idempotency_key" ON "outbound_reply" ("idempotency_key");

CREATE INDEX "outbound_reply_state_id" ON "outbound_reply" ("state", "id");

CREATE TABLE "schema_info" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "upgraded_at" DATETIME NOT NULL);

CREATE TABLE "setting" ("key" VARCHAR(255) NOT NULL PRIMARY KEY, "value" TEXT);

CREATE TABLE "template" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "title" VARCHAR(255) NOT NULL, "body" TEXT NOT NULL, "category" VARCHAR(255) NOT NULL, "builtin" INTEGER NOT NULL, "updated_at" DATETIME NOT NULL);

CREATE UNIQUE INDEX "template_name" ON "template" ("name");
