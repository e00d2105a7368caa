-- Two users (passwords "test" and "other") and one post by "test".
INSERT INTO user (username, password)
VALUES
  ('test', 'scrypt$16384$8$1$4b8cc527cf6c50bf95c19a42742a5e8d$72f211ac83a952ee15caba30af9a6e1b4845fd2bfc50cb311fdc0a8e45b75e5d'),
  ('other', 'scrypt$16384$8$1$4e81f1caa9fa1e231f09e77d1ff21b89$eabd6271038862ff8c0da60324f3996cae5b4b8e631cb38428ed418399a4d363');

INSERT INTO post (title, body, author_id, created)
VALUES
  ('test title', 'test' || x'0a' || 'body', 1, '2018-01-01 00:00:00');
