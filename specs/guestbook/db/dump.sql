-- hardspec guestbook — schema and seed data, loaded into the image's data directory at build time.
CREATE DATABASE IF NOT EXISTS guestbook CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE guestbook;

CREATE TABLE IF NOT EXISTS entries (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
  username    VARCHAR(40)  NOT NULL,
  suggestion  VARCHAR(500) NOT NULL,
  created_at  TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY entries_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO entries (username, suggestion, created_at) VALUES
  ('Ada', 'Please add a dark mode to the reading room.', '2024-05-02 09:15:00'),
  ('Grace', 'More power sockets near the window seats would be great.', '2024-05-03 14:40:00'),
  ('Linus', 'Keep the late opening hours on Thursdays!', '2024-05-04 18:05:00');
