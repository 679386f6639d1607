// @ts-check
// The API's shapes as the console reads them (see /api/openapi.json for the whole contract).
// Types only: importing this module adds nothing at run time.

/**
 * @typedef {object} User
 * @property {number | string} id
 * @property {string} username
 * @property {string} [display_name]
 * @property {string[]} [roles]
 * @property {boolean} [must_change_password] an admin set her password: she sets her own first
 */

/**
 * @typedef {object} Conversation
 * @property {number} id
 * @property {string} status queued | assigned | waiting | closed
 * @property {string} channel
 * @property {string | null} [contact_alias]
 * @property {number | string | null} [assignee_id]
 * @property {string | null} [assignee_name] the assignee's display name
 * @property {number} [priority]
 * @property {string | null} [urgency] triage's category (suicide_risk, ...), to be worded
 * @property {string[]} [tags]
 * @property {string[]} [topics] opened: casework's topics (configured ids)
 * @property {string} [age_group] opened: her age group id ("unknown": not told)
 * @property {string | null} [last_inbound_at]
 * @property {string | null} [created_at]
 * @property {number | null} [consulter_read_message_id] web chat: she has seen our replies up to this id
 * @property {boolean} [opted_out] opened: she texted STOP (SMS) or blocked the account (LINE): no reply can be sent
 * @property {{id: number, due_on: string, counselor_id?: number | null} | null} [follow_up] a follow-up's task (近況確認)
 */

/**
 * @typedef {object} Attachment
 * @property {string} [filename]
 * @property {string} [name]
 * @property {string} [content_type]
 * @property {number} [size_bytes]
 * @property {boolean} [stored]
 * @property {string} [download_url]
 */

/**
 * @typedef {object} Message
 * @property {number | string} id
 * @property {string} direction inbound | outbound | note
 * @property {string | null} [body]
 * @property {string | null} [created_at]
 * @property {number | string | null} [author_id]
 * @property {string | null} [author_name] the author's display name
 * @property {string | null} [delivery_status]
 * @property {string | null} [failure_reason] a failed reply: why (never an address)
 * @property {Attachment[]} [attachments]
 */

/**
 * One frame's event, as the staff socket sends it (ids and kinds only).
 * @typedef {object} FeedEvent
 * @property {string} [kind]
 * @property {number | string | null} [conversation_id]
 * @property {number | null} [actor_id]
 * @property {number | null} [from_user_id] conversation_assigned / _requeued: whose it was
 * @property {number | null} [to_user_id] conversation_assigned: whose it became
 * @property {string} [reason] an alert's urgency category; why presence changed
 */

// --- context: timeline, search and closing (GET /api/conversations/{id}, .../timeline, /api/search)
/**
 * What the context's answers add to a conversation.
 * @typedef {object} ContextFields
 * @property {string | null} [outcome] how it ended: an id of GET /api/outcomes
 * @property {string | null} [outcome_note]
 * @property {string | null} [closed_at]
 * @property {boolean} [returning] opened: she wrote before
 * @property {string | null} [last_helped_by] opened: the counselor who helped her last
 * @property {string | null} [handled_by_name] a timeline line or a search result
 * @property {number} [message_count]
 * @property {boolean} [current] a timeline line: the conversation it was opened from
 * @property {string | null} [snippet] a search result: the words around the hit
 */

export {};
