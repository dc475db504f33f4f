using System.Text;

namespace FlowScope.Embedded.Database;

/// <summary>
/// What FlowScope reads from a statement's text, on the pump: its normalised form (the one place statements are
/// compared for N+1 detection), its operation (first keyword) and the table it works on when that is cheap to find.
/// </summary>
internal static class SqlStatement
{
    /// <summary>
    /// The statement with string and number literals and parameters (<c>@p0</c>, <c>:name</c>, <c>$1</c>, <c>?</c>) as
    /// <c>?</c>, lists of them collapsed (<c>IN (?, ?, ?)</c> → <c>IN (?)</c>), comments removed and whitespace folded
    /// to single spaces. Identifiers (quoted or not) and keywords are kept as written.
    /// </summary>
    public static string Normalize(string text) => Normalize(text, out _);

    /// <summary>As <see cref="Normalize(string)"/>; <paramref name="hasPlaceholders"/> tells whether the text held parameters.</summary>
    public static string Normalize(string text, out bool hasPlaceholders)
    {
        hasPlaceholders = false;
        var output = new StringBuilder(text.Length);
        var i = 0;
        var pendingSpace = false;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = output.Length > 0;
                i++;
                continue;
            }

            if (c == '-' && At(text, i + 1) == '-')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }

                pendingSpace = output.Length > 0;
                continue;
            }

            if (c == '/' && At(text, i + 1) == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? text.Length : end + 2;
                pendingSpace = output.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                // No space after an opening bracket or before a closing one / comma: "IN ( ? , ? )" and "IN (?, ?)" fold alike.
                var last = output[^1];
                if (last != '(' && c != ')' && c != ',')
                {
                    output.Append(' ');
                }

                pendingSpace = false;
            }

            if (c == '\'' || (c is 'N' or 'n' or 'E' or 'e' or 'X' or 'x' && At(text, i + 1) == '\'' && !IsWordChar(Before(text, i))))
            {
                i = SkipQuoted(text, c == '\'' ? i : i + 1, '\'');
                AppendValue(output);
                continue;
            }

            if (c is '"' or '`')
            {
                var end = SkipQuoted(text, i, c);
                output.Append(text, i, end - i);
                i = end;
                continue;
            }

            if (c == '[')
            {
                var end = text.IndexOf(']', i + 1);
                end = end < 0 ? text.Length : end + 1;
                output.Append(text, i, end - i);
                i = end;
                continue;
            }

            if ((c is '@' or ':' or '$' && IsWordChar(At(text, i + 1)) && !IsWordChar(Before(text, i)) && !(c == ':' && Before(text, i) == ':'))
                || (c == '?' && !IsWordChar(At(text, i + 1))))
            {
                i++;
                while (i < text.Length && IsWordChar(text[i]))
                {
                    i++;
                }

                hasPlaceholders = true;
                AppendValue(output);
                continue;
            }

            if ((char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(At(text, i + 1)))) && !IsWordChar(Before(text, i)))
            {
                i++;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '.' || ((text[i] is '+' or '-') && text[i - 1] is 'e' or 'E')))
                {
                    i++;
                }

                AppendValue(output);
                continue;
            }

            if (c == '-' && char.IsAsciiDigit(At(text, i + 1)) && IsOperatorContext(output))
            {
                i++;
                continue;
            }

            output.Append(c);
            i++;
        }

        return output.ToString();
    }

    /// <summary>Appends <c>?</c>, folding "?, ?" runs into one <c>?</c>.</summary>
    private static void AppendValue(StringBuilder output)
    {
        var length = output.Length;
        if (length >= 2 && output[length - 1] == ',' && output[length - 2] == '?')
        {
            output.Length = length - 1;
            return;
        }

        if (length >= 3 && output[length - 1] == ' ' && output[length - 2] == ',' && output[length - 3] == '?')
        {
            output.Length = length - 2;
            return;
        }

        output.Append('?');
    }

    // A minus right after an operator or bracket is a sign: "= -5" folds like "= 5".
    private static bool IsOperatorContext(StringBuilder output)
    {
        for (var i = output.Length - 1; i >= 0; i--)
        {
            var c = output[i];
            if (c != ' ')
            {
                return c is '=' or '<' or '>' or '(' or ',';
            }
        }

        return false;
    }

    private static int SkipQuoted(string text, int start, char quote)
    {
        var i = start + 1;
        while (i < text.Length)
        {
            if (text[i] == quote)
            {
                if (At(text, i + 1) == quote)
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        return text.Length;
    }

    private static char At(string text, int index) => index < text.Length ? text[index] : '\0';

    private static char Before(string text, int index) => index > 0 ? text[index - 1] : '\0';

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    /// <summary>
    /// The operation (first keyword, upper case: <c>SELECT</c>, <c>INSERT</c>…) and, when it can be found cheaply, the
    /// table: after the first <c>FROM</c> of a SELECT or DELETE, <c>INTO</c> of an INSERT, after UPDATE. Either may be
    /// <see langword="null"/>.
    /// </summary>
    public static (string? Operation, string? Collection) Describe(string text)
    {
        var i = SkipSpaceAndComments(text, 0);
        var start = i;
        while (i < text.Length && char.IsAsciiLetter(text[i]))
        {
            i++;
        }

        if (i == start)
        {
            return (null, null);
        }

        var operation = text[start..i].ToUpperInvariant();
        string? collection = operation switch
        {
            "SELECT" or "DELETE" => IdentifierAfter(text, "FROM", i),
            "INSERT" or "REPLACE" => IdentifierAfter(text, "INTO", i),
            "UPDATE" => Identifier(text, SkipSpaceAndComments(text, i)),
            _ => null,
        };
        return (operation, collection);
    }

    private static string? IdentifierAfter(string text, string keyword, int from)
    {
        var depth = 0;
        for (var i = from; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth--;
            }
            else if (c is '\'' or '"' or '`' or '[')
            {
                i = (c == '[' ? Math.Max(text.IndexOf(']', i + 1), i) : SkipQuoted(text, i, c) - 1);
                if (i < 0)
                {
                    return null;
                }
            }
            else if (depth == 0 && (c == keyword[0] || c == char.ToLowerInvariant(keyword[0]))
                && !IsWordChar(Before(text, i))
                && string.Compare(text, i, keyword, 0, keyword.Length, StringComparison.OrdinalIgnoreCase) == 0
                && !IsWordChar(At(text, i + keyword.Length)))
            {
                return Identifier(text, SkipSpaceAndComments(text, i + keyword.Length));
            }
        }

        return null;
    }

    /// <summary>A possibly qualified, possibly quoted identifier at <paramref name="i"/>, without its quotes.</summary>
    private static string? Identifier(string text, int i)
    {
        var result = new StringBuilder();
        while (i < text.Length)
        {
            var c = text[i];
            if (c is '"' or '`' or '[')
            {
                var close = c == '[' ? ']' : c;
                var end = text.IndexOf(close, i + 1);
                if (end < 0)
                {
                    return null;
                }

                result.Append(text, i + 1, end - i - 1);
                i = end + 1;
            }
            else if (IsWordChar(c))
            {
                var start = i;
                while (i < text.Length && (IsWordChar(text[i]) || text[i] == '$'))
                {
                    i++;
                }

                result.Append(text, start, i - start);
            }
            else
            {
                break;
            }

            if (At(text, i) != '.')
            {
                break;
            }

            result.Append('.');
            i++;
        }

        return result.Length == 0 ? null : result.ToString();
    }

    private static int SkipSpaceAndComments(string text, int i)
    {
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            else if (text[i] == '-' && At(text, i + 1) == '-')
            {
                var end = text.IndexOf('\n', i);
                i = end < 0 ? text.Length : end + 1;
            }
            else if (text[i] == '/' && At(text, i + 1) == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? text.Length : end + 2;
            }
            else
            {
                break;
            }
        }

        return i;
    }
}
