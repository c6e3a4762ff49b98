"""Airtable: live record events from webhooks, a read-through cache, queued batch writes.

Modules (one concept each): ``keys`` (Redis key names), ``schema`` (field id <-> name),
``payloads`` (webhook payloads merged per transaction), ``changes`` (record events),
``sync`` (a ping turned into events under a lease), ``webhooks`` (lifecycle and the
MAC secret store), ``reconcile`` (full-table drift), and ``emulator`` (a local
Airtable-compatible server for tests, the demo and the bench).
"""
