"""Hub events: the feed readers (hub.events.reader), the event log in the hub store
(hub.events.log), each instance's fan-out to its subscribers (hub.events.fanout) and
the bus between instances (hub.events.redis_stream), wired by
`hub.events.service.EventService`."""
