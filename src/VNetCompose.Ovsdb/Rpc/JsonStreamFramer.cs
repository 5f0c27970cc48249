namespace VNetCompose.Ovsdb.Rpc;

/// <summary>
/// Splits a JSON-RPC byte stream into messages. OVSDB sends JSON texts back to back with no length prefix or
/// separator (RFC 7047 section 4 uses JSON-RPC 1.0 over a stream), so a message ends where its outermost
/// object closes: brackets are counted outside strings, honouring escapes.
/// </summary>
internal sealed class JsonStreamFramer
{
    private readonly int _maxMessageBytes;
    private byte[] _buffer = new byte[16 * 1024];
    private int _length;
    private int _scan;
    private int _start = -1;
    private int _depth;
    private bool _inString;
    private bool _escaped;

    public JsonStreamFramer(int maxMessageBytes = 64 * 1024 * 1024)
    {
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>Space for at least <paramref name="minimum"/> more received bytes.</summary>
    public Memory<byte> GetReceiveBuffer(int minimum = 4096)
    {
        if (_buffer.Length - _length < minimum) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + minimum));
        return _buffer.AsMemory(_length);
    }

    /// <summary>Records that <paramref name="count"/> bytes were received into the buffer.</summary>
    public void Advance(int count) => _length += count;

    /// <summary>True while part of a message is buffered (a stream ending now would cut it).</summary>
    public bool HasPartialMessage => _start >= 0;

    /// <summary>Takes the next complete message, if one is buffered.</summary>
    /// <exception cref="FormatException">The stream is not a sequence of JSON objects or arrays, or a message
    /// exceeds the size limit.</exception>
    public bool TryTake(out byte[] message)
    {
        while (_scan < _length)
        {
            byte b = _buffer[_scan];
            if (_start < 0)
            {
                if (b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
                {
                    _scan++;
                    continue;
                }
                if (b is not ((byte)'{' or (byte)'['))
                    throw new FormatException($"expected a JSON-RPC message, found byte 0x{b:x2}");
                _start = _scan;
            }

            if (_inString)
            {
                if (_escaped) _escaped = false;
                else if (b == (byte)'\\') _escaped = true;
                else if (b == (byte)'"') _inString = false;
            }
            else if (b == (byte)'"')
            {
                _inString = true;
            }
            else if (b is (byte)'{' or (byte)'[')
            {
                _depth++;
            }
            else if (b is (byte)'}' or (byte)']' && --_depth == 0)
            {
                message = _buffer.AsSpan(_start, _scan + 1 - _start).ToArray();
                Discard(_scan + 1);
                return true;
            }
            _scan++;
        }

        if (_start < 0)
        {
            Discard(_scan);
        }
        else
        {
            if (_length - _start > _maxMessageBytes)
                throw new FormatException($"a JSON-RPC message exceeds {_maxMessageBytes} bytes");
            // Keep the partial message at the front so the buffer only grows for large messages.
            int shift = _start;
            Array.Copy(_buffer, shift, _buffer, 0, _length - shift);
            _length -= shift;
            _scan -= shift;
            _start = 0;
        }
        message = [];
        return false;
    }

    /// <summary>Drops the first <paramref name="consumed"/> bytes (a finished message or whitespace).</summary>
    private void Discard(int consumed)
    {
        Array.Copy(_buffer, consumed, _buffer, 0, _length - consumed);
        _length -= consumed;
        _scan = 0;
        _start = -1;
    }
}
