// @ts-check
// The API's shapes as the console reads them (see /api/openapi.json for the whole contract).
// Types only: importing this module adds nothing at run time.

/**
 * @typedef {object} User
 * @property {number | string} id
 * @property {string} username
 * @property {string} [display_name]
 * @property {string[]} [roles]
 */

/**
 * @typedef {object} Conversation
 * @property {number} id
 * @property {string} status queued | assigned | waiting | closed
 * @property {string} channel
 * @property {string | null} [contact_alias]
 * @property {number | string | null} [assignee_id]
 * @property {number} [priority]
 * @property {string[]} [tags]
 * @property {string | null} [last_inbound_at]
 * @property {string | null} [created_at]
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
 * @property {string | null} [delivery_status]
 * @property {Attachment[]} [attachments]
 */

/**
 * One frame's event, as the staff socket sends it (ids and kinds only).
 * @typedef {object} FeedEvent
 * @property {string} [kind]
 * @property {number | string | null} [conversation_id]
 */

export {};
