namespace FlowScope.Embedded.Redis.Internal;

/// <summary>Registered once, so calling <c>AddRedisStreams</c> twice does not register everything twice.</summary>
internal sealed class RedisStreamsMarker;
