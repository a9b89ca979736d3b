package spec

import "fmt"

// tokKind classifies a token of program text.
type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokNumber         // starts with a digit: 12, 0x1f, 0b101, 017
	tokIdent          // [A-Za-z_][A-Za-z0-9_]*
	tokPunct          // any other single byte
)

// token is one lexeme with its position (1-based line and byte column).
type token struct {
	kind tokKind
	text string
	line int
	col  int
}

// describe names the token for error messages.
func (t token) describe() string {
	if t.kind == tokEOF {
		return "end of input"
	}
	return fmt.Sprintf("%q", t.text)
}

// commentStyle selects which comments a lexer skips.
type commentStyle uint8

const (
	commentC    commentStyle = 1 << iota // /* ... */ and // ...
	commentAsm                           // /* ... */, ; ... and # ... as the first thing on a line
	commentNone commentStyle = 0
)

// lexer splits program text into tokens; blanks and newlines separate
// tokens and carry no meaning.
type lexer struct {
	src       []byte
	off       int
	line      int
	lineStart int
	comments  commentStyle
	lineEmpty bool // nothing but blanks so far on this line
}

func newLexer(src []byte, comments commentStyle) *lexer {
	return &lexer{src: src, line: 1, comments: comments, lineEmpty: true}
}

func (l *lexer) errAt(line, col int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next token, or a *SyntaxError for an unterminated
// comment.
func (l *lexer) next() (token, error) {
	for l.off < len(l.src) {
		b := l.src[l.off]
		switch {
		case b == '\n':
			l.off++
			l.line++
			l.lineStart = l.off
			l.lineEmpty = true
			continue
		case b == ' ' || b == '\t' || b == '\r' || b == '\f' || b == '\v':
			l.off++
			continue
		case b == '/' && l.off+1 < len(l.src) && l.src[l.off+1] == '*' && l.comments != commentNone:
			line, col := l.line, l.off-l.lineStart+1
			l.off += 2
			for {
				if l.off+1 >= len(l.src) {
					return token{}, l.errAt(line, col, "unterminated /* comment")
				}
				if l.src[l.off] == '*' && l.src[l.off+1] == '/' {
					l.off += 2
					break
				}
				if l.src[l.off] == '\n' {
					l.line++
					l.lineStart = l.off + 1
				}
				l.off++
			}
			continue
		case l.comments == commentC && b == '/' && l.off+1 < len(l.src) && l.src[l.off+1] == '/',
			l.comments == commentAsm && (b == ';' || b == '#' && l.lineEmpty):
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.off++
			}
			continue
		}
		break
	}
	if l.off >= len(l.src) {
		return token{kind: tokEOF, line: l.line, col: l.off - l.lineStart + 1}, nil
	}
	l.lineEmpty = false
	start := l.off
	t := token{line: l.line, col: start - l.lineStart + 1}
	b := l.src[start]
	switch {
	case b >= '0' && b <= '9':
		t.kind = tokNumber
		for l.off < len(l.src) && isWordByte(l.src[l.off]) {
			l.off++
		}
	case isWordByte(b):
		t.kind = tokIdent
		for l.off < len(l.src) && isWordByte(l.src[l.off]) {
			l.off++
		}
	default:
		t.kind = tokPunct
		l.off++
	}
	t.text = string(l.src[start:l.off])
	return t, nil
}

// tokenStream reads tokens from a lexer on demand, so that the tokens of
// a large text are never all in memory: a parser looks a few tokens
// ahead, may back up within the instruction it is reading, and calls
// release between instructions. An error of the lexer (an unterminated
// comment) reads as the end of input; the parser's caller reports it
// through finish, ahead of any error the parser found before it.
type tokenStream struct {
	lex    *lexer
	toks   []token
	i      int
	lexErr error
}

func newTokenStream(src []byte, comments commentStyle) *tokenStream {
	return &tokenStream{lex: newLexer(src, comments)}
}

// fill lexes until the token at index i is available.
func (s *tokenStream) fill(i int) {
	for len(s.toks) <= i {
		if n := len(s.toks); n > 0 && s.toks[n-1].kind == tokEOF {
			s.toks = append(s.toks, s.toks[n-1])
			continue
		}
		t, err := s.lex.next()
		if err != nil {
			s.lexErr = err
			t = token{kind: tokEOF, line: s.lex.line, col: s.lex.off - s.lex.lineStart + 1}
		}
		s.toks = append(s.toks, t)
	}
}

// release forgets the tokens already taken.
func (s *tokenStream) release() {
	n := copy(s.toks, s.toks[s.i:])
	s.toks = s.toks[:n]
	s.i = 0
}

// finish returns the error parsing ends with: the lexer's, when parsing
// stopped at the end of input it made up for it (an unterminated
// comment), else err, the first error in the text.
func (s *tokenStream) finish(err error) error {
	if s.lexErr != nil {
		return s.lexErr
	}
	return err
}

func (s *tokenStream) peek() token { s.fill(s.i); return s.toks[s.i] }

func (s *tokenStream) peekAt(n int) token { s.fill(s.i + n); return s.toks[s.i+n] }

func (s *tokenStream) take() token {
	t := s.peek()
	if t.kind != tokEOF {
		s.i++
	}
	return t
}

func errTok(t token, format string, args ...any) *SyntaxError {
	return &SyntaxError{Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

// punct consumes the punctuation p if it comes next.
func (s *tokenStream) punct(p string) bool {
	if t := s.peek(); t.kind == tokPunct && t.text == p {
		s.i++
		return true
	}
	return false
}

func (s *tokenStream) expectPunct(p string) error {
	if !s.punct(p) {
		t := s.peek()
		return errTok(t, "expected %q, found %s", p, t.describe())
	}
	return nil
}

// number reads an optionally signed number; cstyle admits 0b and octal.
func (s *tokenStream) number(cstyle, signed bool) (uint32, error) {
	first := s.peek()
	sign := ""
	if signed && first.kind == tokPunct && (first.text == "-" || first.text == "+") {
		sign = first.text
		s.i++
	}
	t := s.peek()
	if t.kind != tokNumber {
		return 0, errTok(t, "expected a number, found %s", t.describe())
	}
	s.i++
	v, err := parseNumber(sign+t.text, cstyle)
	if err != nil {
		return 0, errTok(first, "bad number %q: %v", sign+t.text, err)
	}
	return v, nil
}
